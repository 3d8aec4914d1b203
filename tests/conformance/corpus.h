/* SPDX-License-Identifier: GPL-2.0-only */
/* Where the corpus-based tests find the conformance corpus (the OASIS test
 * cases and the peer projects' TTLV vectors, others' data that the project
 * does not copy), and how they say that it is absent.
 *
 * The directory is the first command-line argument (CMake passes its cache
 * variable KMIP_CORPUS_DIR); the environment variable KMIP_CORPUS_DIR, when
 * set and not empty, overrides it. A corpus directory that does not exist
 * makes the test print one line naming what was skipped and how to point it
 * at a corpus, and exit with CORPUS_SKIP (CTest's SKIP_RETURN_CODE); a corpus
 * directory that exists but lacks a part the test reads is a failure. */
#ifndef KMIP_TEST_CORPUS_H
#define KMIP_TEST_CORPUS_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#define CORPUS_SKIP 77

/* The corpus root: the environment's KMIP_CORPUS_DIR or `configured`. */
static inline const char *corpus_root(const char *configured)
{
    const char *env = getenv("KMIP_CORPUS_DIR");
    return env && env[0] ? env : configured;
}

static inline int corpus_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Exits with CORPUS_SKIP after one line on stdout when `root` is absent.
 * `test` names the test, `what` what it would have read. */
static inline void corpus_require(const char *root, const char *test, const char *what)
{
    if (corpus_is_dir(root))
        return;
    printf("%s: SKIPPED (%s): no KMIP corpus at %s; set KMIP_CORPUS_DIR (environment, or "
           "cmake -DKMIP_CORPUS_DIR=DIR) to a directory holding it\n",
           test, what, root);
    fflush(stdout);
    exit(CORPUS_SKIP);
}

#endif

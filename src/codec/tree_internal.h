/* Internal: arena allocation inside a tree (used by the decoder). */
#ifndef KMIP_CODEC_TREE_INTERNAL_H
#define KMIP_CODEC_TREE_INTERNAL_H

#include "kmip/kmip_ttlv.h"

/* n bytes from the tree's arena, 8-byte aligned, zeroed; NULL on NOMEM. */
void *kmip_tree_alloc(kmip_tree *t, size_t n);

#endif

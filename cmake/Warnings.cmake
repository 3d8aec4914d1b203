# SPDX-License-Identifier: GPL-2.0-only
# Project-wide compiler flags: the warning set of the engineering standards,
# hardening, and the optional sanitizer build.
set(KMIP_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
    -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla)
if(KMIP_WERROR)
  list(APPEND KMIP_WARNINGS -Werror)
endif()
add_compile_options(${KMIP_WARNINGS})
add_compile_definitions(_DEFAULT_SOURCE)

# Hardening of every target (the libraries and modules run inside mysqld and
# mariadbd): stack protector, control-flow protection (CET, where the
# compiler targets it), full RELRO and immediate binding, a non-executable
# stack, position-independent executables; _FORTIFY_SOURCE=2 where it works:
# with optimisation (it needs -O) and without sanitizers or the fuzzer (they
# replace the same libc functions).
include(CheckCCompilerFlag)
include(CheckPIESupported)
check_pie_supported()
add_compile_options(-fstack-protector-strong)
check_c_compiler_flag(-fcf-protection KMIP_HAVE_CF_PROTECTION)
if(KMIP_HAVE_CF_PROTECTION)
  add_compile_options(-fcf-protection)
endif()
add_link_options(-Wl,-z,relro,-z,now -Wl,-z,noexecstack)
if(NOT KMIP_SANITIZE AND NOT KMIP_TSAN AND NOT KMIP_FUZZ)
  add_compile_options(
    "$<$<CONFIG:Release,RelWithDebInfo,MinSizeRel>:-U_FORTIFY_SOURCE;-D_FORTIFY_SOURCE=2>")
endif()
if(KMIP_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
if(KMIP_TSAN)
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=thread)
endif()
if(KMIP_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
    -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=address,undefined)
endif()

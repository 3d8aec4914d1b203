# SPDX-License-Identifier: GPL-2.0-only
# Project-wide compiler flags: the warning set of the engineering standards,
# hardening, and the optional sanitizer build.
set(KMIP_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
    -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla)
if(KMIP_WERROR)
  list(APPEND KMIP_WARNINGS -Werror)
endif()
add_compile_options(${KMIP_WARNINGS} -fstack-protector-strong)
add_compile_definitions(_DEFAULT_SOURCE)
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

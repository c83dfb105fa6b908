# Warning set from STYLE.md section 4, applied to every target we compile.
set(TC_WARNINGS
  -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
  -Wformat=2 -Wconversion -Wsign-conversion -Wimplicit-fallthrough)
if(TC_WERROR)
  list(APPEND TC_WARNINGS -Werror)
endif()
add_compile_options(${TC_WARNINGS})
add_compile_definitions(_POSIX_C_SOURCE=200809L)

if(TC_SANITIZE)
  add_compile_options(-fsanitize=${TC_SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${TC_SANITIZE})
endif()

# Generated protobuf-c sources are not ours: silence warnings there.
function(tc_quiet_generated)
  set_source_files_properties(${ARGN} PROPERTIES COMPILE_OPTIONS "-w")
endfunction()

# Fuzz builds instrument every library for coverage, not only the targets.
if(TC_BUILD_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

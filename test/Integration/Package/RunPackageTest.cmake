# The ctest `mpt-package` (cmake/MPTPackage.cmake): install mpt into the
# build tree, configure and build examples/consumer against the installed
# package only (find_package(MPT)), run its tools on examples/mlp.mlir and
# check their output: 16-bit contractions accumulating in f32, and the same
# module from the C++ tool (MPT::Pipelines), the C tool (MPT::CAPI) and the
# installed mpt-opt.
#
# -D: MPT_BINARY_DIR MPT_SOURCE_DIR MPT_PREFIX MPT_CONSUMER_BUILD
#     MPT_GENERATOR MPT_CXX_COMPILER MPT_C_COMPILER MPT_FILECHECK

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc
    OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " command "${ARGN}")
    message(FATAL_ERROR "failed (${rc}): ${command}\n${out}")
  endif()
endfunction()

# A fresh prefix, so that nothing left from an earlier install hides a file
# the install rules no longer provide.
file(REMOVE_RECURSE ${MPT_PREFIX})
run(${CMAKE_COMMAND} --install ${MPT_BINARY_DIR} --prefix ${MPT_PREFIX})
foreach(file lib/cmake/mpt/MPTConfig.cmake lib/cmake/mpt/MPTConfigVersion.cmake
    lib/cmake/mpt/MPTTargets.cmake include/mpt/Pipelines/Pipelines.h
    include/mpt/Transforms/Passes.h.inc include/mpt-c/Pipelines.h bin/mpt-opt
    share/doc/mpt/MPTPasses.md)
  if(NOT EXISTS ${MPT_PREFIX}/${file})
    message(FATAL_ERROR "not installed: ${MPT_PREFIX}/${file}")
  endif()
endforeach()

run(${CMAKE_COMMAND} -G ${MPT_GENERATOR} -S ${MPT_SOURCE_DIR}/examples/consumer
  -B ${MPT_CONSUMER_BUILD} -DCMAKE_BUILD_TYPE=Release
  -DCMAKE_CXX_COMPILER=${MPT_CXX_COMPILER}
  -DCMAKE_C_COMPILER=${MPT_C_COMPILER} -DCMAKE_PREFIX_PATH=${MPT_PREFIX})
run(${CMAKE_COMMAND} --build ${MPT_CONSUMER_BUILD})

set(input ${MPT_SOURCE_DIR}/examples/mlp.mlir)
foreach(tool mpt-amp mpt-amp-c)
  execute_process(COMMAND ${MPT_CONSUMER_BUILD}/${tool} ${input} "dtype=bf16"
    OUTPUT_FILE ${MPT_CONSUMER_BUILD}/mlp.bf16.${tool}.mlir
    ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${tool} failed (${rc}) on ${input}:\n${err}")
  endif()
endforeach()
# mpt-amp-c prints the report on stderr.
if(NOT err MATCHES "\"summary\": \"Converted [0-9]+/[0-9]+ ops to bf16")
  message(FATAL_ERROR "mpt-amp-c printed no report:\n${err}")
endif()
run(${MPT_FILECHECK} ${CMAKE_CURRENT_LIST_DIR}/consumer-mlp.check
  --input-file ${MPT_CONSUMER_BUILD}/mlp.bf16.mpt-amp.mlir)
run(${MPT_PREFIX}/bin/mpt-opt ${input} "--auto-mixed-precision=dtype=bf16"
  -o ${MPT_CONSUMER_BUILD}/mlp.bf16.mpt-opt.mlir)
foreach(tool mpt-amp-c mpt-opt)
  run(${CMAKE_COMMAND} -E compare_files
    ${MPT_CONSUMER_BUILD}/mlp.bf16.mpt-amp.mlir
    ${MPT_CONSUMER_BUILD}/mlp.bf16.${tool}.mlir)
endforeach()

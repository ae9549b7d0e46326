# The installable CMake package of mpt: `cmake --install <build> --prefix P`
# puts headers, libraries, mpt-opt, the generated docs and
# P/lib/cmake/mpt/MPTConfig.cmake (exported targets MPT::<Name>) in place;
# a consumer calls find_package(MPT) with CMAKE_PREFIX_PATH=P.
#
# The libraries are installed from one list here, not by each
# lib/*/CMakeLists.txt: they are made with DISABLE_INSTALL (which keeps them
# out of MLIR's own export set) and a library that does not exist in this
# tree or configuration (the CUDA runtime without a toolkit) is skipped.

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(MPT_VERSION 0.1.0)
set(MPT_INSTALL_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/mpt)

# <target>:<exported name>, in dependency order.
set(MPT_PACKAGE_LIBRARIES
  MPTDialect:Dialect
  MPTTransforms:Transforms
  MPTContractionToMMA:ContractionToMMA
  MPTStepToGPU:StepToGPU
  MPTPipelines:Pipelines
  MPTCAPI:CAPI
  mpt_cuda_runtime:CudaRuntime)

# Installs the libraries of MPT_PACKAGE_LIBRARIES that exist, mpt-opt, the
# headers (source and generated), the docs and the package files. Call it
# after every target is defined.
function(mpt_install_package)
  set(exported)
  foreach(entry ${MPT_PACKAGE_LIBRARIES})
    string(REPLACE ":" ";" pair ${entry})
    list(GET pair 0 target)
    list(GET pair 1 name)
    if(NOT TARGET ${target})
      continue()
    endif()
    set_target_properties(${target} PROPERTIES EXPORT_NAME ${name})
    target_include_directories(${target} INTERFACE
      $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
    list(APPEND exported ${target})
    string(APPEND MPT_EXPORTED_NAMES " ${name}")
  endforeach()
  # Installed mpt-opt and libMPTCAPI.so find libMLIR.so where they were
  # linked against it (LLVM's lib/, off the loader's default path). Not
  # libmpt_cuda_runtime: it links the toolkit's stub libcuda, and must find
  # the driver's.
  if(TARGET MPTCAPI)
    set_target_properties(MPTCAPI PROPERTIES INSTALL_RPATH_USE_LINK_PATH ON)
  endif()
  install(TARGETS ${exported} EXPORT MPTTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  set_target_properties(mpt-opt PROPERTIES INSTALL_RPATH_USE_LINK_PATH ON)
  install(TARGETS mpt-opt EXPORT MPTTargets
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

  install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/mpt
    ${PROJECT_SOURCE_DIR}/include/mpt-c
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
    FILES_MATCHING PATTERN "*.h" PATTERN "*.td")
  install(DIRECTORY ${PROJECT_BINARY_DIR}/include/mpt
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
    FILES_MATCHING PATTERN "*.inc"
    PATTERN "CMakeFiles" EXCLUDE)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/generated/
    DESTINATION ${CMAKE_INSTALL_DOCDIR})

  install(EXPORT MPTTargets NAMESPACE MPT::
    DESTINATION ${MPT_INSTALL_CMAKE_DIR})
  string(STRIP "${MPT_EXPORTED_NAMES}" MPT_EXPORTED_NAMES)
  # The exact MLIR major.minor mpt was built against: libMLIR.so's SONAME
  # carries both, and MLIRConfigVersion accepts any patch not older.
  set(MPT_MLIR_VERSION ${LLVM_VERSION_MAJOR}.${LLVM_VERSION_MINOR})
  configure_package_config_file(
    ${PROJECT_SOURCE_DIR}/cmake/MPTConfig.cmake.in
    ${PROJECT_BINARY_DIR}/lib/cmake/mpt/MPTConfig.cmake
    INSTALL_DESTINATION ${MPT_INSTALL_CMAKE_DIR})
  write_basic_package_version_file(
    ${PROJECT_BINARY_DIR}/lib/cmake/mpt/MPTConfigVersion.cmake
    VERSION ${MPT_VERSION} COMPATIBILITY SameMinorVersion)
  install(FILES ${PROJECT_BINARY_DIR}/lib/cmake/mpt/MPTConfig.cmake
    ${PROJECT_BINARY_DIR}/lib/cmake/mpt/MPTConfigVersion.cmake
    DESTINATION ${MPT_INSTALL_CMAKE_DIR})
endfunction()

# The ctest `mpt-package`: install into the build tree, build
# examples/consumer against the installed package and run it (see
# test/Integration/Package/RunPackageTest.cmake).
function(mpt_add_package_test)
  add_test(NAME mpt-package
    COMMAND ${CMAKE_COMMAND}
      -DMPT_BINARY_DIR=${PROJECT_BINARY_DIR}
      -DMPT_SOURCE_DIR=${PROJECT_SOURCE_DIR}
      -DMPT_PREFIX=${PROJECT_BINARY_DIR}/package-test/prefix
      -DMPT_CONSUMER_BUILD=${PROJECT_BINARY_DIR}/package-test/consumer
      -DMPT_GENERATOR=${CMAKE_GENERATOR}
      -DMPT_CXX_COMPILER=${CMAKE_CXX_COMPILER}
      -DMPT_C_COMPILER=${CMAKE_C_COMPILER}
      -DMPT_FILECHECK=${LLVM_TOOLS_BINARY_DIR}/FileCheck
      -P ${PROJECT_SOURCE_DIR}/test/Integration/Package/RunPackageTest.cmake)
  set_tests_properties(mpt-package PROPERTIES TIMEOUT 300)
endfunction()

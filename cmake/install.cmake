# Installs the libraries, their headers (under include/diffmesh, so
# "catalog/mesh.h" is found as in this tree) and the CMake package:
#   cmake --install build --prefix /opt/diffmesh
#   find_package(diffmesh) ... target_link_libraries(app diffmesh::diffmesh)
# or one layer and what it needs: diffmesh::engine, diffmesh::operators,
# diffmesh::catalog, diffmesh::storage, diffmesh::governance.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(DIFFMESH_INSTALL_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR}/diffmesh)
set(DIFFMESH_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/diffmesh)

# Everything a program needs, in one target.
add_library(diffmesh INTERFACE)
target_link_libraries(diffmesh INTERFACE diffmesh_governance diffmesh_storage
                                         diffmesh_catalog diffmesh_operators)

install(TARGETS diffmesh diffmesh_engine diffmesh_operators diffmesh_schemas
                diffmesh_catalog diffmesh_storage diffmesh_governance
        EXPORT diffmeshTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${DIFFMESH_INSTALL_INCLUDEDIR})
foreach(layer engine operators catalog storage governance)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${layer}/
          DESTINATION ${DIFFMESH_INSTALL_INCLUDEDIR}/${layer}
          FILES_MATCHING PATTERN "*.h")
endforeach()
install(DIRECTORY ${PROJECT_BINARY_DIR}/schemas/include/schemas/
        DESTINATION ${DIFFMESH_INSTALL_INCLUDEDIR}/schemas
        FILES_MATCHING PATTERN "*.h")
install(EXPORT diffmeshTargets NAMESPACE diffmesh::
        DESTINATION ${DIFFMESH_INSTALL_CMAKEDIR})
configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/diffmeshConfig.cmake.in
  ${PROJECT_BINARY_DIR}/diffmeshConfig.cmake
  INSTALL_DESTINATION ${DIFFMESH_INSTALL_CMAKEDIR})
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/diffmeshConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/diffmeshConfig.cmake
              ${PROJECT_BINARY_DIR}/diffmeshConfigVersion.cmake
        DESTINATION ${DIFFMESH_INSTALL_CMAKEDIR})

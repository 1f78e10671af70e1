# Unit tests of the SQLite metadata store (grove_store_metadata); included from CMakeLists.txt.
add_executable(grove_unit_store_metadata
    ${CMAKE_CURRENT_LIST_DIR}/metadata_database_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/metadata_gc_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/metadata_image_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/metadata_layer_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/metadata_list_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/metadata_pin_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/metadata_statement_cache_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/metadata_session_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/metadata_tag_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/metadata_uuid_test.cpp)
target_link_libraries(grove_unit_store_metadata
    PRIVATE grove_store_metadata SQLite::SQLite3 GTest::gtest_main)
grove_add_tests(grove_unit_store_metadata unit)

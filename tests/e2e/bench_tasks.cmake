# The benchmark tasks test themselves (bench/check-task.sh): for each task under bench/tasks/, the
# unmodified working copy fails its held-out tests, the reference solution and every variants/correct-*
# pass public and held-out tests (exactly the tests of tests.json), wrong/ and every variants/wrong-*
# fail the held-out ones, and so do the cheats of bench/cheats/ (exit early, disarm node:assert, mark
# tests todo, rewrite the test files).
# Needs the shared TypeScript toolchain in bench/node_modules (scripts/install-deps.sh).
file(GLOB bench_task_dirs LIST_DIRECTORIES true CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/bench/tasks/*)
foreach(task_dir ${bench_task_dirs})
  if(IS_DIRECTORY ${task_dir} AND EXISTS ${task_dir}/task.json)
    get_filename_component(task_id ${task_dir} NAME)
    set(test_name bench_task_${task_id}_heldout_accepts_correct_rejects_wrong_and_cheats)
    add_test(NAME ${test_name} COMMAND bash ${CMAKE_SOURCE_DIR}/bench/check-task.sh ${task_dir})
    set_tests_properties(${test_name} PROPERTIES TIMEOUT 300 LABELS bench)
  endif()
endforeach()

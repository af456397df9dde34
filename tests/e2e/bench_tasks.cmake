# The benchmark tasks test themselves (bench/check-task.sh): for each task under bench/tasks/, the
# unmodified working copy fails its held-out tests, the reference solution passes public and held-out
# tests, and the task's plausible wrong answer (wrong/) passes the public tests but not the held-out ones.
# Needs the shared TypeScript toolchain in bench/node_modules (scripts/install-deps.sh).
file(GLOB bench_task_dirs LIST_DIRECTORIES true CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/bench/tasks/*)
foreach(task_dir ${bench_task_dirs})
  if(IS_DIRECTORY ${task_dir} AND EXISTS ${task_dir}/task.json)
    get_filename_component(task_id ${task_dir} NAME)
    set(test_name bench_task_${task_id}_solution_passes_original_and_wrong_fail_heldout)
    add_test(NAME ${test_name} COMMAND bash ${CMAKE_SOURCE_DIR}/bench/check-task.sh ${task_dir})
    set_tests_properties(${test_name} PROPERTIES TIMEOUT 120 LABELS bench)
  endif()
endforeach()

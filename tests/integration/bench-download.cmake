# bench-download at tiny sizes (tools/bench/README.md), so the benchmark
# cannot rot: it passes when every run completed and printed its figures;
# it judges no figure and no time. The full runs are manual.
if(TARGET bench-download)
  add_test(NAME bench-download-smoke COMMAND bench-download --smoke)
  set_tests_properties(bench-download-smoke PROPERTIES LABELS bench
                       TIMEOUT 300)
  # the in-memory store diagnostic (--store memory), throughput only
  add_test(NAME bench-download-smoke-memory
           COMMAND bench-download --smoke --mode throughput --store memory)
  set_tests_properties(bench-download-smoke-memory PROPERTIES LABELS bench
                       TIMEOUT 120)
endif()

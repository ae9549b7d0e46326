"""mpt's numeric checks and defect searches: test harnesses, not user API.

Each module runs as `python3 -m mpt.testing.<name>` (lit tests and `make
fuzz` call them so; docs/Testing.md):

  gradcheck      backward of generated steps against finite differences
  ampcheck       each example's mixed-precision step against its FP32 step
  stress         random model sizes through the whole pipeline
  trainingcheck  loss scaling, skipped steps and the optimizers
  fpcheck        16-bit matmuls against float64 references
  fuzzgraph      random training graphs, FP32 against 16 bits
  fuzzmutate     mutated examples through mpt-opt: no crash, no hang
  ireecheck      the hand-off to IREE (needs the project's venv)
"""

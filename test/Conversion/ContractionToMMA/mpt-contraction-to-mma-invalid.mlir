// RUN: mpt-opt %s --mpt-contraction-to-mma --split-input-file -verify-diagnostics

// Each malformed or impossible strategy is an error that names what to fix;
// the op is left as it was.

func.func @not_a_dictionary(%a: memref<64x64xf16>, %b: memref<64x64xf16>, %c: memref<64x64xf32>) {
  // expected-error @below {{'mma_strategy' must be a dictionary}}
  linalg.matmul {mma_strategy = 1 : i64}
    ins(%a, %b : memref<64x64xf16>, memref<64x64xf16>) outs(%c : memref<64x64xf32>)
  return
}

// -----

func.func @missing_keys(%a: memref<64x64xf16>, %b: memref<64x64xf16>, %c: memref<64x64xf32>) {
  // expected-error @below {{'mma_strategy' needs tile = array<i64: m, n, k>, warps = array<i64: m, n>, copy = array<i64: a, b>, stages and group_m}}
  linalg.matmul {mma_strategy = {tile = array<i64: 32, 32, 16>}}
    ins(%a, %b : memref<64x64xf16>, memref<64x64xf16>) outs(%c : memref<64x64xf32>)
  return
}

// -----

func.func @not_power_of_2(%a: memref<64x64xf16>, %b: memref<64x64xf16>, %c: memref<64x64xf32>) {
  // expected-error @below {{invalid 'mma_strategy': tile sizes and warps must be powers of 2, tile k >= 16}}
  linalg.matmul {mma_strategy = {copy = array<i64: 8, 8>, group_m = 1 : i64, stages = 2 : i64, tile = array<i64: 48, 32, 16>, warps = array<i64: 1, 1>}}
    ins(%a, %b : memref<64x64xf16>, memref<64x64xf16>) outs(%c : memref<64x64xf32>)
  return
}

// -----

func.func @warp_too_small(%a: memref<64x64xf16>, %b: memref<64x64xf16>, %c: memref<64x64xf32>) {
  // expected-error @below {{invalid 'mma_strategy': each warp needs a multiple of 16 rows and 16 columns}}
  linalg.matmul {mma_strategy = {copy = array<i64: 8, 8>, group_m = 1 : i64, stages = 2 : i64, tile = array<i64: 32, 32, 16>, warps = array<i64: 4, 1>}}
    ins(%a, %b : memref<64x64xf16>, memref<64x64xf16>) outs(%c : memref<64x64xf32>)
  return
}

// -----

func.func @too_many_threads(%a: memref<128x128xf16>, %b: memref<128x128xf16>, %c: memref<128x128xf32>) {
  // expected-error @below {{invalid 'mma_strategy': more than 1024 threads per block}}
  linalg.matmul {mma_strategy = {copy = array<i64: 8, 8>, group_m = 1 : i64, stages = 2 : i64, tile = array<i64: 128, 128, 16>, warps = array<i64: 8, 8>}}
    ins(%a, %b : memref<128x128xf16>, memref<128x128xf16>) outs(%c : memref<128x128xf32>)
  return
}

// -----

func.func @one_stage(%a: memref<64x64xbf16>, %b: memref<64x64xbf16>, %c: memref<64x64xf32>) {
  // expected-error @below {{invalid 'mma_strategy': stages must be >= 2 and group_m >= 1}}
  linalg.matmul {mma_strategy = {copy = array<i64: 8, 8>, group_m = 1 : i64, stages = 1 : i64, tile = array<i64: 32, 32, 16>, warps = array<i64: 1, 1>}}
    ins(%a, %b : memref<64x64xbf16>, memref<64x64xbf16>) outs(%c : memref<64x64xf32>)
  return
}

// -----

func.func @copy_too_wide(%a: memref<36x36xf16>, %b: memref<36x36xf16>, %c: memref<36x36xf32>) {
  // expected-error @below {{invalid 'mma_strategy': copy width 8 of A is not 1, 2, 4 or 8, or exceeds the alignment of its strides (4)}}
  linalg.matmul {mma_strategy = {copy = array<i64: 8, 8>, group_m = 1 : i64, stages = 2 : i64, tile = array<i64: 32, 32, 16>, warps = array<i64: 1, 1>}}
    ins(%a, %b : memref<36x36xf16>, memref<36x36xf16>) outs(%c : memref<36x36xf32>)
  return
}

// -----

func.func @uneven_copies(%a: memref<64x64xf16>, %b: memref<64x64xf16>, %c: memref<64x64xf32>) {
  // expected-error @below {{invalid 'mma_strategy': the threads of a block do not evenly share the copies of a tile}}
  linalg.matmul {mma_strategy = {copy = array<i64: 8, 8>, group_m = 1 : i64, stages = 2 : i64, tile = array<i64: 32, 32, 16>, warps = array<i64: 2, 2>}}
    ins(%a, %b : memref<64x64xf16>, memref<64x64xf16>) outs(%c : memref<64x64xf32>)
  return
}

// -----

func.func @too_much_shared_memory(%a: memref<64x64xf16>, %b: memref<64x64xf16>, %c: memref<64x64xf32>) {
  // expected-error @below {{invalid 'mma_strategy': needs 393216 bytes of shared memory, more than the limit of 232448}}
  linalg.matmul {mma_strategy = {copy = array<i64: 8, 8>, group_m = 1 : i64, stages = 8 : i64, tile = array<i64: 128, 256, 64>, warps = array<i64: 2, 4>}}
    ins(%a, %b : memref<64x64xf16>, memref<64x64xf16>) outs(%c : memref<64x64xf32>)
  return
}

// -----

func.func @fp32_inputs(%a: memref<64x64xf32>, %b: memref<64x64xf32>, %c: memref<64x64xf32>) {
  // expected-error @below {{carries 'mma_strategy' but cannot run on tensor cores: inputs are not both f16 or both bf16}}
  linalg.matmul {mma_strategy = {copy = array<i64: 8, 8>, group_m = 1 : i64, stages = 2 : i64, tile = array<i64: 32, 32, 16>, warps = array<i64: 1, 1>}}
    ins(%a, %b : memref<64x64xf32>, memref<64x64xf32>) outs(%c : memref<64x64xf32>)
  return
}

// -----

func.func @bad_epilogue_stages(%a: memref<32x32xf16>, %b: memref<32x32xf16>, %c: memref<32x32xf32>) {
  // expected-error @below {{epilogue_stages must be in [0, 4]}}
  linalg.matmul {mma_strategy = {copy = array<i64: 8, 8>, epilogue_stages = 5 : i64, group_m = 1 : i64, stages = 2 : i64, tile = array<i64: 32, 32, 16>, warps = array<i64: 1, 1>}}
    ins(%a, %b : memref<32x32xf16>, memref<32x32xf16>) outs(%c : memref<32x32xf32>)
  return
}

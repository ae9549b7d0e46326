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

// TF32 is never implied: a strategy on an FP32 contraction must say tf32.
func.func @fp32_inputs(%a: memref<64x64xf32>, %b: memref<64x64xf32>, %c: memref<64x64xf32>) {
  // expected-error @below {{invalid 'mma_strategy': f32 inputs run on tensor cores only as TF32 (inputs rounded to 10-bit mantissas): add the key tf32 to ask for it}}
  linalg.matmul {mma_strategy = {copy = array<i64: 4, 4>, group_m = 1 : i64, stages = 2 : i64, tile = array<i64: 32, 32, 16>, warps = array<i64: 1, 1>}}
    ins(%a, %b : memref<64x64xf32>, memref<64x64xf32>) outs(%c : memref<64x64xf32>)
  return
}

// -----

func.func @fp32_tf32_false(%a: memref<64x64xf32>, %b: memref<64x64xf32>, %c: memref<64x64xf32>) {
  // expected-error @below {{f32 inputs run on tensor cores only as TF32}}
  linalg.matmul {mma_strategy = {copy = array<i64: 4, 4>, group_m = 1 : i64, stages = 2 : i64, tf32 = false, tile = array<i64: 32, 32, 16>, warps = array<i64: 1, 1>}}
    ins(%a, %b : memref<64x64xf32>, memref<64x64xf32>) outs(%c : memref<64x64xf32>)
  return
}

// -----

func.func @tf32_not_a_flag(%a: memref<64x64xf32>, %b: memref<64x64xf32>, %c: memref<64x64xf32>) {
  // expected-error @below {{'mma_strategy' key tf32 must be a unit or bool attribute}}
  linalg.matmul {mma_strategy = {copy = array<i64: 4, 4>, group_m = 1 : i64, stages = 2 : i64, tf32 = "yes", tile = array<i64: 32, 32, 16>, warps = array<i64: 1, 1>}}
    ins(%a, %b : memref<64x64xf32>, memref<64x64xf32>) outs(%c : memref<64x64xf32>)
  return
}

// -----

func.func @tf32_on_f16(%a: memref<64x64xf16>, %b: memref<64x64xf16>, %c: memref<64x64xf32>) {
  // expected-error @below {{invalid 'mma_strategy': tf32 needs f32 inputs, not 'f16'}}
  linalg.matmul {mma_strategy = {copy = array<i64: 8, 8>, group_m = 1 : i64, stages = 2 : i64, tf32, tile = array<i64: 32, 32, 16>, warps = array<i64: 1, 1>}}
    ins(%a, %b : memref<64x64xf16>, memref<64x64xf16>) outs(%c : memref<64x64xf32>)
  return
}

// -----

func.func @tf32_mixed_inputs(%a: memref<64x64xf32>, %b: memref<64x64xf16>, %c: memref<64x64xf32>) {
  // expected-error @below {{carries 'mma_strategy' but cannot run on tensor cores: inputs are not both f16, both bf16 or both f32}}
  linalg.matmul {mma_strategy = {copy = array<i64: 4, 4>, group_m = 1 : i64, stages = 2 : i64, tf32, tile = array<i64: 32, 32, 16>, warps = array<i64: 1, 1>}}
    ins(%a, %b : memref<64x64xf32>, memref<64x64xf16>) outs(%c : memref<64x64xf32>)
  return
}

// -----

func.func @tf32_16bit_output(%a: memref<64x64xf32>, %b: memref<64x64xf32>, %c: memref<64x64xf16>) {
  // expected-error @below {{carries 'mma_strategy' but cannot run on tensor cores: output is neither f32 nor the input type}}
  linalg.matmul {mma_strategy = {copy = array<i64: 4, 4>, group_m = 1 : i64, stages = 2 : i64, tf32, tile = array<i64: 32, 32, 16>, warps = array<i64: 1, 1>}}
    ins(%a, %b : memref<64x64xf32>, memref<64x64xf32>) outs(%c : memref<64x64xf16>)
  return
}

// -----

// A cp.async moves 16 bytes at most: 4 f32.
func.func @tf32_copy_too_wide(%a: memref<64x64xf32>, %b: memref<64x64xf32>, %c: memref<64x64xf32>) {
  // expected-error @below {{invalid 'mma_strategy': copy width 8 of A is not 1, 2 or 4, or exceeds the alignment of its strides (8)}}
  linalg.matmul {mma_strategy = {copy = array<i64: 8, 4>, group_m = 1 : i64, stages = 2 : i64, tf32, tile = array<i64: 32, 32, 16>, warps = array<i64: 1, 1>}}
    ins(%a, %b : memref<64x64xf32>, memref<64x64xf32>) outs(%c : memref<64x64xf32>)
  return
}

// -----

// m16n8k8: the K tile is a multiple of 8.
func.func @tf32_tile_k_too_small(%a: memref<64x64xf32>, %b: memref<64x64xf32>, %c: memref<64x64xf32>) {
  // expected-error @below {{invalid 'mma_strategy': tile sizes and warps must be powers of 2, tile k >= 16 (8 with tf32)}}
  linalg.matmul {mma_strategy = {copy = array<i64: 4, 4>, group_m = 1 : i64, stages = 2 : i64, tf32, tile = array<i64: 32, 32, 4>, warps = array<i64: 1, 1>}}
    ins(%a, %b : memref<64x64xf32>, memref<64x64xf32>) outs(%c : memref<64x64xf32>)
  return
}

// -----

// Shared memory counts 4 bytes an element: 4 x (128 + 256) x 64 x 4.
func.func @tf32_too_much_shared_memory(%a: memref<64x64xf32>, %b: memref<64x64xf32>, %c: memref<64x64xf32>) {
  // expected-error @below {{invalid 'mma_strategy': needs 393216 bytes of shared memory, more than the limit of 232448}}
  linalg.matmul {mma_strategy = {copy = array<i64: 4, 4>, group_m = 1 : i64, stages = 4 : i64, tf32, tile = array<i64: 128, 256, 64>, warps = array<i64: 2, 4>}}
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

// -----

// Warpgroup (wgmma) strategies: what TMA and wgmma m64nNk16 need.
func.func @wgmma_not_unit(%a: memref<128x64xf16>, %b: memref<64x128xf16>, %c: memref<128x128xf32>) {
  // expected-error @below {{'mma_strategy' key wgmma must be a unit or bool attribute}}
  linalg.matmul {mma_strategy = {copy = array<i64: 8, 8>, group_m = 8 : i64, stages = 4 : i64, tile = array<i64: 128, 128, 64>, warps = array<i64: 8, 1>, wgmma = 1 : i64}}
    ins(%a, %b : memref<128x64xf16>, memref<64x128xf16>) outs(%c : memref<128x128xf32>)
  return
}

// -----

func.func @wgmma_tf32(%a: memref<128x64xf32>, %b: memref<64x128xf32>, %c: memref<128x128xf32>) {
  // expected-error @below {{invalid 'mma_strategy': wgmma takes f16 or bf16 inputs here (TF32 runs on mma.sync)}}
  linalg.matmul {mma_strategy = {copy = array<i64: 4, 4>, group_m = 8 : i64, stages = 2 : i64, tf32, tile = array<i64: 128, 128, 64>, warps = array<i64: 8, 1>, wgmma}}
    ins(%a, %b : memref<128x64xf32>, memref<64x128xf32>) outs(%c : memref<128x128xf32>)
  return
}

// -----

func.func @wgmma_batch(%a: memref<2x128x64xf16>, %b: memref<2x64x128xf16>, %c: memref<2x128x128xf32>) {
  // expected-error @below {{invalid 'mma_strategy': wgmma kernels take no batch loop yet}}
  linalg.batch_matmul {mma_strategy = {copy = array<i64: 8, 8>, group_m = 8 : i64, stages = 4 : i64, tile = array<i64: 128, 128, 64>, warps = array<i64: 8, 1>, wgmma}}
    ins(%a, %b : memref<2x128x64xf16>, memref<2x64x128xf16>) outs(%c : memref<2x128x128xf32>)
  return
}

// -----

func.func @wgmma_unaligned(%a: memref<128x999xf16>, %b: memref<999x128xf16>, %c: memref<128x128xf32>) {
  // expected-error @below {{invalid 'mma_strategy': wgmma needs TMA: static strides and offsets of A and B in multiples of 16 bytes}}
  linalg.matmul {mma_strategy = {copy = array<i64: 1, 8>, group_m = 8 : i64, stages = 4 : i64, tile = array<i64: 128, 128, 64>, warps = array<i64: 8, 1>, wgmma}}
    ins(%a, %b : memref<128x999xf16>, memref<999x128xf16>) outs(%c : memref<128x128xf32>)
  return
}

// -----

func.func @wgmma_tile(%a: memref<128x64xf16>, %b: memref<64x128xf16>, %c: memref<128x128xf32>) {
  // expected-error @below {{invalid 'mma_strategy': wgmma needs tile k = 64, warps = [tile m / 16, 1], tile m a multiple of 64 and tile n one of 64, 128, 256}}
  linalg.matmul {mma_strategy = {copy = array<i64: 8, 8>, group_m = 8 : i64, stages = 4 : i64, tile = array<i64: 128, 128, 32>, warps = array<i64: 8, 1>, wgmma}}
    ins(%a, %b : memref<128x64xf16>, memref<64x128xf16>) outs(%c : memref<128x128xf32>)
  return
}

// -----

func.func @persistent_without_wgmma(%a: memref<128x64xf16>, %b: memref<64x128xf16>, %c: memref<128x128xf32>) {
  // expected-error @below {{invalid 'mma_strategy': persistent (blocks of a persistent grid) must be >= 0 and needs wgmma}}
  linalg.matmul {mma_strategy = {copy = array<i64: 8, 8>, group_m = 8 : i64, persistent = 132 : i64, stages = 4 : i64, tile = array<i64: 128, 128, 32>, warps = array<i64: 2, 2>}}
    ins(%a, %b : memref<128x64xf16>, memref<64x128xf16>) outs(%c : memref<128x128xf32>)
  return
}

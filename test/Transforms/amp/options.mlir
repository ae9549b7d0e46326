// RUN: mpt-opt %s --auto-mixed-precision | FileCheck %s --check-prefix=DEFAULT
// RUN: mpt-opt %s --auto-mixed-precision="dtype=bf16" | FileCheck %s --check-prefix=BF16
// RUN: mpt-opt %s --auto-mixed-precision="allow=-linalg.matmul" | FileCheck %s --check-prefix=NOMATMUL
// RUN: mpt-opt %s --auto-mixed-precision="deny=arith.addf" | FileCheck %s --check-prefix=DENYADD
// RUN: mpt-opt %s --auto-mixed-precision="infer=math.exp deny=-math.exp" | FileCheck %s --check-prefix=EXPINFER
// RUN: mpt-opt %s --auto-mixed-precision="clear=-linalg.broadcast" | FileCheck %s --check-prefix=NOCLEAR
// RUN: mpt-opt %s --auto-mixed-precision="policy=%S/Inputs/policy.txt" | FileCheck %s --check-prefix=POLICY
// RUN: mpt-opt %s --auto-mixed-precision="keep-io-types=false" | FileCheck %s --check-prefix=NOKEEP
// RUN: mpt-opt %s --auto-mixed-precision | FileCheck %s --check-prefix=ROUND
// RUN: mpt-opt %s --auto-mixed-precision="allow-excess-precision=true" | FileCheck %s --check-prefix=EXCESS
// RUN: mpt-opt %s --auto-mixed-precision="report=%t.json" -o /dev/null 2>&1 | FileCheck %s --check-prefix=SUMMARY
// RUN: FileCheck %s --input-file=%t.json --check-prefix=JSON

// DEFAULT-LABEL: func.func @step
// DEFAULT-SAME: (%{{.*}}: tensor<8x4xf32> {mpt.role = "input"}, %{{.*}}: tensor<4x4xf32> {mpt.role = "param"}, %{{.*}}: tensor<4xf32> {mpt.role = "param"}, %{{.*}}: tensor<8x4xf32> {mpt.role = "input"})
// DEFAULT-SAME: -> (tensor<8x4xf32>, tensor<8x4xf32>)
// DEFAULT: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<8x4xf16>, tensor<4x4xf16>)
// DEFAULT: arith.addf %{{.*}}, %{{.*}} : tensor<8x4xf16>
// DEFAULT: arith.divf %{{.*}}, %{{.*}} : tensor<8x4xf16>
// DEFAULT: math.exp %{{.*}} : tensor<8x4xf32>
// DEFAULT: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<1x8x4xf16>, tensor<1x4x4xf16>)

// BF16: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<8x4xbf16>, tensor<4x4xbf16>)
// BF16: arith.addf %{{.*}}, %{{.*}} : tensor<8x4xbf16>

// Without matmul in the allow list, matmuls (and what lies between them)
// stay f32; the batch_matmul is still 16-bit.
// NOMATMUL: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<8x4xf32>, tensor<4x4xf32>)
// NOMATMUL: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<1x8x4xf16>, tensor<1x4x4xf16>)

// DENYADD: arith.addf %{{.*}}, %{{.*}} : tensor<8x4xf32>
// DENYADD: arith.divf %{{.*}}, %{{.*}} : tensor<8x4xf32>

// EXPINFER: math.exp %{{.*}} : tensor<8x4xf16>

// A clear op removed from its list is kept f32.
// NOCLEAR: linalg.broadcast ins(%{{.*}} : tensor<4xf32>)

// The policy file removes batch_matmul from allow and denies divf.
// POLICY: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<8x4xf16>, tensor<4x4xf16>)
// POLICY: arith.divf %{{.*}}, %{{.*}} : tensor<8x4xf32>
// POLICY: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<1x8x4xf32>, tensor<1x4x4xf32>)

// Without keep-io-types the plain (role-less) 16-bit result leaves as f16;
// parameters stay f32 (master weights).
// NOKEEP-LABEL: func.func @step
// NOKEEP-SAME: tensor<4x4xf32> {mpt.role = "param"}
// NOKEEP-SAME: -> (tensor<8x4xf16>, tensor<8x4xf32>)

// SUMMARY: Converted {{[0-9]+}}/{{[0-9]+}} ops to f16 using {{[0-9]+}} casts
// JSON: "casts_inserted":
// JSON: "dtype": "f16"
// JSON: "ops_f32": {
// JSON: "deny list": 1
// JSON: "ops_low": {
// JSON: "allow": 3
// JSON: "ops_seen":
// JSON: "summary": "Converted

func.func @step(%x: tensor<8x4xf32> {mpt.role = "input"}, %w: tensor<4x4xf32> {mpt.role = "param"},
                %b: tensor<4xf32> {mpt.role = "param"}, %y: tensor<8x4xf32> {mpt.role = "input"})
    -> (tensor<8x4xf32>, tensor<8x4xf32>) {
  %acc = arith.constant dense<0.0> : tensor<8x4xf32>
  %m = linalg.matmul ins(%x, %w : tensor<8x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<8x4xf32>) -> tensor<8x4xf32>
  %init = tensor.empty() : tensor<8x4xf32>
  %bb = linalg.broadcast ins(%b : tensor<4xf32>) outs(%init : tensor<8x4xf32>) dimensions = [0]
  %s = arith.addf %m, %bb : tensor<8x4xf32>
  %d = arith.divf %s, %y : tensor<8x4xf32>
  %m2 = linalg.matmul ins(%d, %w : tensor<8x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<8x4xf32>) -> tensor<8x4xf32>
  %e = math.exp %m2 : tensor<8x4xf32>
  %e3 = tensor.expand_shape %e [[0, 1], [2]] output_shape [1, 8, 4] : tensor<8x4xf32> into tensor<1x8x4xf32>
  %w3 = tensor.expand_shape %w [[0, 1], [2]] output_shape [1, 4, 4] : tensor<4x4xf32> into tensor<1x4x4xf32>
  %acc3 = arith.constant dense<0.0> : tensor<1x8x4xf32>
  %bm = linalg.batch_matmul ins(%e3, %w3 : tensor<1x8x4xf32>, tensor<1x4x4xf32>) outs(%acc3 : tensor<1x8x4xf32>) -> tensor<1x8x4xf32>
  %r = tensor.collapse_shape %bm [[0, 1], [2]] : tensor<1x8x4xf32> into tensor<8x4xf32>
  %rh = arith.truncf %m2 : tensor<8x4xf32> to tensor<8x4xf16>
  %half = arith.addf %rh, %rh : tensor<8x4xf16>
  %back = arith.extf %half : tensor<8x4xf16> to tensor<8x4xf32>
  return %back, %r : tensor<8x4xf32>, tensor<8x4xf32>
}

// extf(truncf(x)) rounds x: kept, unless allow-excess-precision.
// ROUND-LABEL: func.func @explicit_rounding
// ROUND: arith.truncf
// ROUND: arith.extf
// EXCESS-LABEL: func.func @explicit_rounding
// EXCESS-NOT: arith.truncf
// EXCESS: return %arg0
func.func @explicit_rounding(%x: tensor<4xf32>) -> tensor<4xf32> {
  %h = arith.truncf %x : tensor<4xf32> to tensor<4xf16>
  %e = arith.extf %h : tensor<4xf16> to tensor<4xf32>
  return %e : tensor<4xf32>
}

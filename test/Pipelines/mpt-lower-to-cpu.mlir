// RUN: mpt-opt %s --mpt-lower-to-cpu | FileCheck %s
// RUN: mpt-opt %s --mpt-lower-to-cpu="c-interface=false" | FileCheck %s --check-prefix=NOC
// RUN: mpt-opt %s --mpt-lower-to-cpu="deallocate=false" | FileCheck %s --check-prefix=NODEALLOC
// RUN: mpt-opt %s --mpt-lower-to-cpu="writable-args=true" | FileCheck %s --check-prefix=WR
// The result is LLVM IR that mlir-translate accepts.
// RUN: mpt-opt %s --mpt-lower-to-cpu | mlir-translate --mlir-to-llvmir | FileCheck %s --check-prefix=LLVMIR

// Everything is in the LLVM dialect: no tensor, linalg, mpt or 16-bit
// arithmetic is left (f16/bf16 arithmetic is emulated in f32).
// CHECK-NOT: linalg.
// CHECK-NOT: tensor<
// CHECK-NOT: mpt.loss_grad
// CHECK-NOT: {{llvm\.(fadd|fmul|intr\.exp).*f16}}
// CHECK-LABEL: llvm.func @mixed
// CHECK: llvm.fpext %{{.*}} : f16 to f32
// CHECK-LABEL: llvm.func @_mlir_ciface_mixed
// The temporary of @temporary is freed unless deallocate=false.
// CHECK-LABEL: llvm.func @temporary
// CHECK: llvm.call @free
// With writable arguments the square is computed in the argument's buffer:
// no temporary, nothing to free.
// WR-LABEL: llvm.func @temporary
// WR-NOT: llvm.call @free
// WR: llvm.return
// NOC-NOT: _mlir_ciface_
// NODEALLOC-NOT: llvm.call @free
// LLVMIR: define {{.*}} @_mlir_ciface_mixed

func.func @mixed(%a: tensor<4x8xf16>, %b: tensor<8x2xf16>, %c: tensor<4xbf16>)
    -> (tensor<4x2xf32>, tensor<4xbf16>, tensor<f32>) {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<4x2xf32>) -> tensor<4x2xf32>
  %m = linalg.matmul ins(%a, %b : tensor<4x8xf16>, tensor<8x2xf16>) outs(%f : tensor<4x2xf32>) -> tensor<4x2xf32>
  %s = arith.addf %c, %c : tensor<4xbf16>
  %x = math.exp %s : tensor<4xbf16>
  %l = arith.constant dense<2.0> : tensor<f32>
  %seed = mpt.loss_grad %l : tensor<f32>
  return %m, %x, %seed : tensor<4x2xf32>, tensor<4xbf16>, tensor<f32>
}

func.func @temporary(%a: tensor<4xf32>) -> tensor<f32> {
  %t = arith.mulf %a, %a : tensor<4xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<f32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %r = linalg.reduce ins(%t : tensor<4xf32>) outs(%f : tensor<f32>) dimensions = [0]
    (%x: f32, %acc: f32) {
      %s = arith.addf %x, %acc : f32
      linalg.yield %s : f32
    }
  return %r : tensor<f32>
}

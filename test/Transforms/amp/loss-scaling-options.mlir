// The loss-scaling options of auto-mixed-precision.
// RUN: mpt-opt %s --auto-mixed-precision | FileCheck %s --check-prefix=F16
// RUN: mpt-opt %s --auto-mixed-precision=dtype=bf16 | FileCheck %s --check-prefix=BF16
// RUN: mpt-opt %s --auto-mixed-precision="dtype=bf16 loss-scaling=dynamic" | FileCheck %s --check-prefix=F16
// RUN: mpt-opt %s --auto-mixed-precision="loss-scaling=none" | FileCheck %s --check-prefix=BF16
// RUN: mpt-opt %s --auto-mixed-precision="loss-scaling=static init-scale=128" | FileCheck %s --check-prefix=STATIC
// RUN: mpt-opt %s --auto-mixed-precision="init-scale=1024 growth-factor=3 backoff-factor=0.25 growth-interval=10 hysteresis=2 min-scale=2 max-scale=4096" | FileCheck %s --check-prefix=OPTS
// RUN: mpt-opt %s --auto-mixed-precision="return-16bit-params=true" | FileCheck %s --check-prefix=LOW
// RUN: mpt-opt %s --auto-mixed-precision --mpt-attach-optimizer=kind=adam --mpt-lower-to-cpu -o /dev/null

// f16 defaults to dynamic scaling: state in and out, grads f32.
// F16-LABEL: func.func @step
// F16-SAME: tensor<f32> {mpt.role = "loss_scale"}, %{{.*}}: tensor<i32> {mpt.role = "growth_tracker"}, %{{.*}}: tensor<i32> {mpt.role = "hysteresis"})
// F16-SAME: tensor<4x4xf32> {mpt.grad_of = 0 : i64, mpt.role = "grad"}, tensor<i1> {mpt.role = "found_inf"}, tensor<f32> {mpt.role = "loss_scale", mpt.updates = 3 : i64}
// F16: mpt.unscale_check
// F16: mpt.update_scale
// bf16 (f32's range) defaults to none.
// BF16-LABEL: func.func @step
// BF16-NOT: loss_scale
// BF16-NOT: mpt.unscale_check
// BF16: return
// STATIC-LABEL: func.func @step
// STATIC: arith.constant dense<1.280000e+02> : tensor<f32>
// STATIC: mpt.unscale_check
// STATIC-NOT: mpt.update_scale
// OPTS: mpt.update_scale {{.*}} {backoff_factor = 2.500000e-01 : f64, growth_factor = 3.000000e+00 : f64, growth_interval = 10 : i64, hysteresis = 2 : i64, max_scale = 4.096000e+03 : f64, min_scale = 2.000000e+00 : f64}
// The parameter's 16-bit working copy, returned.
// LOW-LABEL: func.func @step
// LOW-SAME: tensor<4x4xf16> {mpt.copy_of = 0 : i64, mpt.role = "param_low"})
// LOW: %[[WH:.*]] = arith.truncf %arg0 : tensor<4x4xf32> to tensor<4x4xf16>
// LOW: return {{.*}}, %[[WH]] :
func.func @step(%w: tensor<4x4xf32> {mpt.role = "param"}, %x: tensor<4x4xf32> {mpt.role = "input"},
                %seed: tensor<f32> {mpt.role = "loss_grad"})
    -> (tensor<f32> {mpt.role = "loss"}, tensor<4x4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  %zero = arith.constant dense<0.0> : tensor<4x4xf32>
  %y = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%zero : tensor<4x4xf32>) -> tensor<4x4xf32>
  %e = tensor.empty() : tensor<4x4xf32>
  %s = linalg.broadcast ins(%seed : tensor<f32>) outs(%e : tensor<4x4xf32>) dimensions = [0, 1]
  %xt = linalg.transpose ins(%x : tensor<4x4xf32>) outs(%e : tensor<4x4xf32>) permutation = [1, 0]
  %g = linalg.matmul ins(%xt, %s : tensor<4x4xf32>, tensor<4x4xf32>) outs(%zero : tensor<4x4xf32>) -> tensor<4x4xf32>
  %z = tensor.empty() : tensor<f32>
  %l = linalg.reduce ins(%y : tensor<4x4xf32>) outs(%seed : tensor<f32>) dimensions = [0, 1]
    (%a: f32, %b: f32) {
      %r = arith.addf %a, %b : f32
      linalg.yield %r : f32
    }
  return %l, %g : tensor<f32>, tensor<4x4xf32>
}

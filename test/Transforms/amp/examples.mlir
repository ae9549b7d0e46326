// Every shipped example end to end: the rewritten step verifies, every
// contraction reads 16-bit values into an f32 accumulator, the exp/log of
// the loss stay f32, and the step lowers to the CPU.
// RUN: mpt-opt %mpt_src/examples/mlp.mlir --auto-mixed-precision="report=-" 2>%t.mlp.log | FileCheck %s --check-prefixes=CHECK,MLP
// RUN: FileCheck %s --input-file=%t.mlp.log --check-prefix=SUMMARY
// RUN: mpt-opt %mpt_src/examples/cnn.mlir --auto-mixed-precision | FileCheck %s --check-prefixes=CHECK,CNN
// RUN: mpt-opt %mpt_src/examples/transformer.mlir --auto-mixed-precision | FileCheck %s --check-prefixes=CHECK,TF
// RUN: mpt-opt %mpt_src/examples/transformer.mlir --auto-mixed-precision=dtype=bf16 | FileCheck %s --check-prefix=BF16
// RUN: mpt-opt %mpt_src/examples/transformer.mlir --auto-mixed-precision --mpt-lower-to-cpu -o /dev/null
// RUN: mpt-opt %mpt_src/examples/cnn.mlir --auto-mixed-precision=dtype=bf16 --mpt-lower-to-cpu -o /dev/null
// With dynamic loss scaling and an optimizer, each example is a full
// training step that lowers to the CPU.
// RUN: mpt-opt %mpt_src/examples/mlp.mlir --auto-mixed-precision="loss-scaling=dynamic" --mpt-attach-optimizer=kind=adamw --mpt-lower-to-cpu -o /dev/null
// RUN: mpt-opt %mpt_src/examples/cnn.mlir --auto-mixed-precision="loss-scaling=dynamic" --mpt-attach-optimizer=kind=momentum --mpt-lower-to-cpu -o /dev/null
// RUN: mpt-opt %mpt_src/examples/transformer.mlir --auto-mixed-precision="loss-scaling=dynamic" --mpt-attach-optimizer="kind=adam clip-norm=1" --mpt-lower-to-cpu -o /dev/null
// RUN: mpt-opt %mpt_src/examples/transformer.mlir --auto-mixed-precision="loss-scaling=dynamic" | FileCheck %s --check-prefix=STATE
// STATE: {mpt.role = "loss_scale"}, %{{.*}}: tensor<i32> {mpt.role = "growth_tracker"}, %{{.*}}: tensor<i32> {mpt.role = "hysteresis"})
// STATE: mpt.unscale_check
// STATE: mpt.update_scale
// The generator's steps with a dynamic batch and the seed as an op:
// RUN: %PYTHON -m mpt.gen transformer --dynamic-batch --seed op | mpt-opt --auto-mixed-precision | FileCheck %s --check-prefixes=CHECK,DYN

// The signature is unchanged (master weights and grads f32); no
// contraction reads f32; exp and log stay f32.
// CHECK-LABEL: func.func @step
// CHECK-NOT: xf16> {mpt.role
// CHECK-NOT: {{linalg\.(batch_)?matmul ins\(%[a-z0-9_]+, %[a-z0-9_]+ : tensor<[0-9x?]+xf32>}}
// MLP: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<8x16xf16>, tensor<16x32xf16>) outs(%{{.*}} : tensor<8x32xf32>)
// CNN: linalg.conv_2d_nhwc_hwcf {{.*}} ins(%{{.*}}, %{{.*}} : tensor<8x10x10x3xf16>, tensor<3x3x3x4xf16>) outs(%{{.*}} : tensor<8x8x8x4xf32>)
// TF: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<16x4x4xf16>, tensor<16x4x4xf16>) outs(%{{.*}} : tensor<16x4x4xf32>)
// DYN: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<?x4x4xf16>, tensor<?x4x4xf16>) outs(%{{.*}} : tensor<?x4x4xf32>)
// CHECK-NOT: {{linalg\.(batch_)?matmul ins\(%[a-z0-9_]+, %[a-z0-9_]+ : tensor<[0-9x?]+xf32>}}
// CHECK-NOT: {{linalg\.conv_2d_nhwc_hwcf .* ins\(%[a-z0-9_]+, %[a-z0-9_]+ : tensor<[0-9x?]+xf32>}}
// CHECK-NOT: math.exp {{.*}}xf16>
// CHECK-NOT: math.log {{.*}}xf16>
// CHECK: return

// BF16: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<16x4x4xbf16>, tensor<16x4x4xbf16>) outs(%{{.*}} : tensor<16x4x4xf32>)

// SUMMARY: Converted {{[1-9][0-9]*}}/{{[0-9]+}} ops to f16 using {{[0-9]+}} casts

// RUN: mpt-opt %s --mpt-prepare-abi | FileCheck %s
// RUN: mpt-opt %s --mpt-prepare-abi="c-interface=false" | FileCheck %s --check-prefix=NOC
// RUN: mpt-opt %s --mpt-prepare-abi="writable-args=true" | FileCheck %s --check-prefix=WRITABLE

// CHECK-LABEL: func.func @step
// CHECK-SAME: (%{{.*}}: tensor<4xf32> {bufferization.writable = false, mpt.role = "param"}, %{{.*}}: f32, %{{.*}}: tensor<2xf16> {bufferization.writable = false})
// CHECK-SAME: attributes {llvm.emit_c_interface}
// NOC-LABEL: func.func @step
// NOC-NOT: llvm.emit_c_interface
// NOC: return
// WRITABLE-LABEL: func.func @step
// WRITABLE-NOT: bufferization.writable
// WRITABLE-SAME: attributes {llvm.emit_c_interface}
func.func @step(%w: tensor<4xf32> {mpt.role = "param"}, %s: f32, %h: tensor<2xf16>) -> tensor<4xf32> {
  return %w : tensor<4xf32>
}

// A user's explicit choice is kept.
// CHECK-LABEL: func.func @explicit
// CHECK-SAME: {bufferization.writable = true}
func.func @explicit(%w: tensor<4xf32> {bufferization.writable = true}) -> tensor<4xf32> {
  return %w : tensor<4xf32>
}

// Private functions and declarations are internal: left alone.
// CHECK-LABEL: func.func private @negative_private
// CHECK-NOT: bufferization.writable
// CHECK-NOT: llvm.emit_c_interface
// CHECK: return
func.func private @negative_private(%w: tensor<4xf32>) -> tensor<4xf32> {
  return %w : tensor<4xf32>
}
// CHECK-LABEL: func.func private @negative_declaration
// CHECK-NOT: llvm.emit_c_interface
func.func private @negative_declaration(tensor<4xf32>) -> tensor<4xf32>

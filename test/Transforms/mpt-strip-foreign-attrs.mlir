// RUN: mpt-opt %s --mpt-strip-foreign-attrs | FileCheck %s

// CHECK-LABEL: llvm.func @casts
// CHECK: llvm.fpext %{{.*}} : f16 to f32
// CHECK-NOT: #arith.fastmath
// Builtin-valued discardable attributes and inherent attributes stay.
// CHECK: llvm.fadd %{{.*}} {fastmath = #llvm.fastmath<fast>, note = "kept"} : f32
llvm.func @casts(%a: f16) -> f32 {
  %0 = llvm.fpext %a {fastmath = #arith.fastmath<contract>} : f16 to f32
  %1 = llvm.fadd %0, %0 {fastmath = #llvm.fastmath<fast>, note = "kept"} : f32
  llvm.return %1 : f32
}

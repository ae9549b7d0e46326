// RUN: mpt-opt %s --mpt-strip-foreign-attrs | FileCheck %s
// RUN: mpt-opt %s --mpt-strip-foreign-attrs | FileCheck %s --check-prefix=ALIAS

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

// Literal structs of 16 or more members (a function's results) are printed
// once, as an alias; smaller ones (memref descriptors) stay as they are.
// ALIAS: !llvm_struct = !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)>
// ALIAS-LABEL: llvm.func @results
// ALIAS: llvm.mlir.poison : !llvm_struct
// ALIAS: llvm.insertvalue %{{.*}}, %{{.*}}[15] : !llvm_struct
// ALIAS: llvm.return %{{.*}} : !llvm_struct
// ALIAS-LABEL: llvm.func @negative_fewer_members
// ALIAS: llvm.mlir.poison : !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)>
llvm.func @results(%x: f32) -> !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)> {
  %0 = llvm.mlir.poison : !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)>
  %1 = llvm.insertvalue %x, %0[15] : !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)>
  llvm.return %1 : !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)>
}
llvm.func @negative_fewer_members() -> !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)> {
  %0 = llvm.mlir.poison : !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)>
  llvm.return %0 : !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)>
}

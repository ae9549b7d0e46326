// RUN: mpt-opt %s --mpt-lower-to-nvvm="format=isa" | FileCheck %s
// RUN: mpt-opt %s --mpt-lower-to-nvvm="format=isa" | %PYTHON %S/../Integration/GPU/Inputs/extract_ptx.py | FileCheck %s --check-prefix=PTX
// RUN: mpt-opt %s --mpt-lower-to-nvvm="format=isa chip=sm_80 features=+ptx76" | %PYTHON %S/../Integration/GPU/Inputs/extract_ptx.py | FileCheck %s --check-prefix=SM80
// RUN: mpt-opt %s --mpt-lower-to-nvvm="format=isa block-size=128" | %PYTHON %S/../Integration/GPU/Inputs/extract_ptx.py | FileCheck %s --check-prefix=BS
// RUN: mpt-opt %s --mpt-lower-to-nvvm="format=isa c-interface=false" | FileCheck %s --check-prefix=NOCI

// A small mixed-precision step with what the GPU path must keep off the
// host: a loss reduced to a 0-d tensor, a flag read back with
// tensor.extract, a branch on it (skipped update), a scalar chain built
// into a 0-d tensor, a dynamic batch. Every op becomes a kernel of one
// gpu.module (elementwise chains fused: 6 kernels); the host allocates,
// launches on one stream, frees and waits once, at the end.

// CHECK-LABEL: llvm.func @step(
// CHECK: llvm.call @mgpuStreamCreate()
// CHECK: llvm.call @mgpuMemAlloc
// CHECK-COUNT-6: gpu.launch_func <%{{.*}} : !llvm.ptr> @step_kernels::
// CHECK-NOT: gpu.launch_func
// CHECK: llvm.call @mgpuMemFree
// CHECK: llvm.call @mgpuStreamSynchronize
// CHECK-NEXT: llvm.call @mgpuStreamDestroy
// CHECK-NOT: llvm.call
// CHECK: llvm.return
// CHECK: llvm.func @_mlir_ciface_step
// CHECK: gpu.binary @step_kernels
// CHECK-SAME: #gpu.object<#nvvm.target<O = 3, chip = "sm_90a", features = "+ptx80">
// NOCI-NOT: _mlir_ciface_step

// PTX: .target sm_90a
// PTX: .entry step_1_generic
// The bounds check of the one-dimensional grid.
// PTX: setp.{{.*}}.u64
// f16 ops are emitted in f32 and rounded per op; LLVM narrows such an op
// back to the native f16 instruction where that rounds the same.
// PTX: ld.global.b16
// PTX: cvt.rn.f16.f32
// PTX: mul.rn.f16
// PTX: cvt.f32.f16
// SM80: .target sm_80
// BS: .maxntid 128, 1, 1

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
func.func @step(%x: tensor<?x4xf16>, %w: tensor<4xf32>, %m: tensor<4xf32>,
                %scale: tensor<f32>)
    -> (tensor<f32>, tensor<4xf32>, tensor<f32>) {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?x4xf16>
  // y = x * w (f16 in, f32 out), loss = sum(y) / scale.
  %e = tensor.empty(%n) : tensor<?x4xf32>
  %y = linalg.generic {indexing_maps = [#id, #row, #id],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x, %w : tensor<?x4xf16>, tensor<4xf32>) outs(%e : tensor<?x4xf32>) {
  ^bb0(%a: f16, %b: f32, %o: f32):
    %ah = arith.truncf %b : f32 to f16
    %p = arith.mulf %a, %ah : f16
    %pf = arith.extf %p : f16 to f32
    linalg.yield %pf : f32
  } -> tensor<?x4xf32>
  %zero = arith.constant 0.0 : f32
  %z0 = tensor.empty() : tensor<f32>
  %acc = linalg.fill ins(%zero : f32) outs(%z0 : tensor<f32>) -> tensor<f32>
  %sum = linalg.reduce ins(%y : tensor<?x4xf32>) outs(%acc : tensor<f32>) dimensions = [0, 1]
    (%in: f32, %a: f32) {
      %s = arith.addf %in, %a : f32
      linalg.yield %s : f32
    }
  %s = tensor.extract %scale[] : tensor<f32>
  %one = arith.constant 1.0 : f32
  %inv = arith.divf %one, %s : f32
  %l = tensor.extract %sum[] : tensor<f32>
  %loss = arith.mulf %l, %inv : f32
  %lt = tensor.from_elements %loss : tensor<f32>
  // Skip the update when the loss is not finite.
  %inf = arith.constant 0x7F800000 : f32
  %abs = math.absf %loss : f32
  %bad = arith.cmpf uge, %abs, %inf : f32
  %upd = scf.if %bad -> tensor<4xf32> {
    scf.yield %m : tensor<4xf32>
  } else {
    %g = arith.mulf %w, %m : tensor<4xf32>
    %u = arith.subf %m, %g : tensor<4xf32>
    scf.yield %u : tensor<4xf32>
  }
  // The next scale, from a scalar chain.
  %half = arith.constant 0.5 : f32
  %next = arith.mulf %s, %half : f32
  %nt = tensor.from_elements %next : tensor<f32>
  return %lt, %upd, %nt : tensor<f32>, tensor<4xf32>, tensor<f32>
}

// RUN: mpt-opt %s --mpt-select-mma-strategy=epilogue-stages=2 --mpt-linalg-to-gpu-launch --mpt-contraction-to-mma --split-input-file | FileCheck %s
// RUN: mpt-opt %s --mpt-select-mma-strategy=epilogue-stages=1 --mpt-linalg-to-gpu-launch --mpt-contraction-to-mma --split-input-file | FileCheck %s --check-prefix=ONE
// RUN: mpt-opt %s --mpt-select-mma-strategy --mpt-linalg-to-gpu-launch --mpt-contraction-to-mma --split-input-file | FileCheck %s
// RUN: mpt-opt %s --mpt-select-mma-strategy=epilogue-stages=0 --mpt-linalg-to-gpu-launch --mpt-contraction-to-mma --split-input-file | FileCheck %s --check-prefix=NONE

// A forward layer: the bias add and 16-bit cast that read the f32 result
// run in the tensor-core kernel's epilogue. A fill of an unrelated buffer
// between them stays its own kernel (the epilogue moves up past it, with
// the allocation of its output); the f32 result is never allocated.
// With epilogue-stages=0 the kernel stores C and the bias add is a kernel.
// NONE-LABEL: func.func @bias_epilogue
// NONE: gpu.alloc () : memref<256x128xf32>
// NONE: function(@bias_epilogue_{{[0-9]+}}_generic)
// CHECK-LABEL: func.func @bias_epilogue
// CHECK-SAME: %[[BIAS:[a-z0-9]+]]: memref<128xf32>
// CHECK-NOT: memref<256x128xf32>
// CHECK: %[[OUT:.*]] = gpu.alloc () : memref<256x128xf16>
// CHECK: gpu.launch {{.*}} function(@bias_epilogue_mma0_matmul)
// CHECK: nvvm.mma.sync
// Full tiles go through shared memory (stage-epilogue): the accumulators
// of a fragment row into a padded f32 staging tile, then 4 consecutive
// columns a thread, the bias by one vector load, one vector store.
// CHECK: gpu.barrier
// CHECK: vector.store {{.*}} : memref<32x72xf32, #gpu.address_space<workgroup>>, vector<2xf32>
// CHECK: gpu.barrier
// CHECK: vector.load %{{.*}} : memref<128xf32>, vector<4xf32>
// CHECK: vector.load {{.*}} : memref<32x72xf32, #gpu.address_space<workgroup>>, vector<4xf32>
// CHECK: arith.addf
// CHECK: arith.truncf {{.*}} : f32 to f16
// CHECK: vector.store %{{.*}}, %[[OUT]]{{.*}} vector<4xf16>
// Edge tiles: element by element, masked.
// CHECK: } else {
// CHECK: memref.load %[[BIAS]]
// CHECK: arith.addf
// CHECK: arith.truncf {{.*}} : f32 to f16
// CHECK: memref.store %{{.*}}, %[[OUT]]
// CHECK: gpu.launch {{.*}} function(@bias_epilogue_0_fill)
// CHECK-NOT: linalg.
// CHECK: return %[[OUT]]
#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>
func.func @bias_epilogue(%a: memref<256x64xf16>, %b: memref<64x128xf16>, %bias: memref<128xf32>,
                         %other: memref<64x64xf32>) -> memref<256x128xf16> {
  %z = arith.constant 0.0 : f32
  %c = gpu.alloc () : memref<256x128xf32>
  linalg.fill ins(%z : f32) outs(%c : memref<256x128xf32>)
  linalg.matmul ins(%a, %b : memref<256x64xf16>, memref<64x128xf16>) outs(%c : memref<256x128xf32>)
  linalg.fill ins(%z : f32) outs(%other : memref<64x64xf32>)
  %o = gpu.alloc () : memref<256x128xf16>
  linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c, %bias : memref<256x128xf32>, memref<128xf32>) outs(%o : memref<256x128xf16>) {
  ^bb0(%x: f32, %y: f32, %r: f16):
    %s = arith.addf %x, %y : f32
    %t = arith.truncf %s : f32 to f16
    linalg.yield %t : f16
  }
  gpu.dealloc %c : memref<256x128xf32>
  return %o : memref<256x128xf16>
}

// -----

// Negative: the f32 result is also read by a second op (a column sum), so
// the kernel writes it and the elementwise op stays a kernel of its own.
// Likewise when an op between writes a buffer the elementwise op reads.
// CHECK-LABEL: func.func @read_twice
// CHECK: %[[C:.*]] = gpu.alloc () : memref<256x128xf32>
// CHECK: gpu.launch {{.*}} function(@read_twice_mma{{[0-9]+}}_matmul)
// CHECK: vector.store {{.*}}vector<2xf32>
// CHECK: function(@read_twice_{{[0-9]+}}_generic)
// CHECK: function(@read_twice_{{[0-9]+}}_generic)
// CHECK-LABEL: func.func @clobbered
// CHECK: gpu.launch {{.*}} function(@clobbered_mma{{[0-9]+}}_matmul)
// CHECK: function(@clobbered_{{[0-9]+}}_fill)
// CHECK: function(@clobbered_{{[0-9]+}}_generic)
#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>
func.func @read_twice(%a: memref<256x64xf16>, %b: memref<64x128xf16>, %o: memref<256x128xf16>,
                      %sum: memref<128xf32>) {
  %z = arith.constant 0.0 : f32
  %c = gpu.alloc () : memref<256x128xf32>
  linalg.fill ins(%z : f32) outs(%c : memref<256x128xf32>)
  linalg.matmul ins(%a, %b : memref<256x64xf16>, memref<64x128xf16>) outs(%c : memref<256x128xf32>)
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<256x128xf32>) outs(%o : memref<256x128xf16>) {
  ^bb0(%x: f32, %r: f16):
    %t = arith.truncf %x : f32 to f16
    linalg.yield %t : f16
  }
  linalg.generic {indexing_maps = [#id, #col], iterator_types = ["reduction", "parallel"]}
      ins(%c : memref<256x128xf32>) outs(%sum : memref<128xf32>) {
  ^bb0(%x: f32, %s: f32):
    %t = arith.addf %x, %s : f32
    linalg.yield %t : f32
  }
  gpu.dealloc %c : memref<256x128xf32>
  return
}

func.func @clobbered(%a: memref<256x64xf16>, %b: memref<64x128xf16>, %bias: memref<128xf32>,
                     %o: memref<256x128xf16>) {
  %z = arith.constant 0.0 : f32
  %c = gpu.alloc () : memref<256x128xf32>
  linalg.fill ins(%z : f32) outs(%c : memref<256x128xf32>)
  linalg.matmul ins(%a, %b : memref<256x64xf16>, memref<64x128xf16>) outs(%c : memref<256x128xf32>)
  linalg.fill ins(%z : f32) outs(%bias : memref<128xf32>)
  linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c, %bias : memref<256x128xf32>, memref<128xf32>) outs(%o : memref<256x128xf16>) {
  ^bb0(%x: f32, %y: f32, %r: f16):
    %s = arith.addf %x, %y : f32
    %t = arith.truncf %s : f32 to f16
    linalg.yield %t : f16
  }
  gpu.dealloc %c : memref<256x128xf32>
  return
}

// -----

// A chain: the ReLU of the biased pre-activation is a second epilogue
// stage (the pre-activation, read again later, is stored too), moved up
// past an unrelated op (with epilogue-stages=2); a third op that reads the
// ReLU output through a transposed map is not a stage.
// By default (one stage) the ReLU stays a kernel of its own.
// ONE-LABEL: func.func @bias_relu
// ONE: function(@bias_relu_mma{{[0-9]+}}_matmul)
// ONE-NOT: arith.maximumf
// ONE: function(@bias_relu_{{[0-9]+}}_generic)
// ONE: arith.maximumf
// CHECK-LABEL: func.func @bias_relu
// CHECK: gpu.launch {{.*}} function(@bias_relu_mma{{[0-9]+}}_matmul)
// CHECK: arith.addf
// CHECK: arith.truncf
// CHECK: arith.maximumf
// CHECK: vector.store %{{.*}}, %arg4
// CHECK: vector.store %{{.*}}, %arg5
// CHECK: function(@bias_relu_{{[0-9]+}}_fill)
// CHECK: function(@bias_relu_{{[0-9]+}}_generic)
// CHECK-NOT: gpu.launch
#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>
#t = affine_map<(d0, d1) -> (d1, d0)>
func.func @bias_relu(%a: memref<256x64xf16>, %b: memref<64x128xf16>, %bias: memref<128xf32>,
                     %other: memref<64x64xf32>, %h: memref<256x128xf16>, %r: memref<256x128xf16>,
                     %rt: memref<128x256xf16>) {
  %z = arith.constant 0.0 : f32
  %c = gpu.alloc () : memref<256x128xf32>
  linalg.fill ins(%z : f32) outs(%c : memref<256x128xf32>)
  linalg.matmul ins(%a, %b : memref<256x64xf16>, memref<64x128xf16>) outs(%c : memref<256x128xf32>)
  linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c, %bias : memref<256x128xf32>, memref<128xf32>) outs(%h : memref<256x128xf16>) {
  ^bb0(%x: f32, %y: f32, %o: f16):
    %s = arith.addf %x, %y : f32
    %t = arith.truncf %s : f32 to f16
    linalg.yield %t : f16
  }
  linalg.fill ins(%z : f32) outs(%other : memref<64x64xf32>)
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%h : memref<256x128xf16>) outs(%r : memref<256x128xf16>) {
  ^bb0(%x: f16, %o: f16):
    %zero = arith.constant 0.0 : f16
    %m = arith.maximumf %x, %zero : f16
    linalg.yield %m : f16
  }
  linalg.generic {indexing_maps = [#t, #id], iterator_types = ["parallel", "parallel"]}
      ins(%r : memref<256x128xf16>) outs(%rt : memref<128x256xf16>) {
  ^bb0(%x: f16, %o: f16):
    linalg.yield %x : f16
  }
  gpu.dealloc %c : memref<256x128xf32>
  return
}

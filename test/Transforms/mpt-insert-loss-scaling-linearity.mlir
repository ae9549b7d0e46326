// RUN: mpt-opt %s --mpt-insert-loss-scaling --split-input-file | FileCheck %s
// RUN: mpt-opt %s --auto-mixed-precision --split-input-file | FileCheck %s

// Grads that loss scaling accepts: each is proven linear in the seed through
// the ops a backward is made of (the refused ones are in
// mpt-insert-loss-scaling-linearity-invalid.mlir).

// ReLU's backward masks with a select on a forward value; a reduction sums
// from zero; a transpose and a matmul from a zero fill.
// CHECK-LABEL: func.func @relu_matmul
// CHECK: mpt.unscale_check
func.func @relu_matmul(%w: tensor<4x4xf32> {mpt.role = "param"}, %x: tensor<4x4xf32> {mpt.role = "input"},
                       %seed: tensor<f32> {mpt.role = "loss_grad"})
    -> (tensor<4x4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  %zero = arith.constant 0.0 : f32
  %zeros = arith.constant dense<0.0> : tensor<4x4xf32>
  %e = tensor.empty() : tensor<4x4xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<4x4xf32>) -> tensor<4x4xf32>
  %h = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%fill : tensor<4x4xf32>) -> tensor<4x4xf32>
  %mask = arith.cmpf ogt, %h, %zeros : tensor<4x4xf32>
  %b = linalg.broadcast ins(%seed : tensor<f32>) outs(%e : tensor<4x4xf32>) dimensions = [0, 1]
  %dh = arith.select %mask, %b, %zeros : tensor<4x4xi1>, tensor<4x4xf32>
  %xt = linalg.transpose ins(%x : tensor<4x4xf32>) outs(%e : tensor<4x4xf32>) permutation = [1, 0]
  %dw = linalg.matmul ins(%xt, %dh : tensor<4x4xf32>, tensor<4x4xf32>) outs(%fill : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %dw : tensor<4x4xf32>
}

// -----

// A normalisation's backward: dx = r * (dy - mean(dy) - xhat * mean(dy * xhat)),
// with r and xhat from the forward; sums over a generic reduction.
// CHECK-LABEL: func.func @norm_backward
// CHECK: mpt.unscale_check
#id = affine_map<(d0) -> (d0)>
#all = affine_map<(d0) -> ()>
func.func @norm_backward(%xhat: tensor<8xf32> {mpt.role = "param"}, %dy: tensor<8xf32> {mpt.role = "loss_grad"})
    -> (tensor<8xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  %r = arith.constant dense<0.5> : tensor<8xf32>
  %n = arith.constant dense<0.125> : tensor<f32>
  %z = arith.constant dense<0.0> : tensor<f32>
  %e = tensor.empty() : tensor<8xf32>
  %sum = linalg.generic {indexing_maps = [#id, #all], iterator_types = ["reduction"]}
      ins(%dy : tensor<8xf32>) outs(%z : tensor<f32>) {
    ^bb0(%a: f32, %acc: f32):
      %s = arith.addf %acc, %a : f32
      linalg.yield %s : f32
  } -> tensor<f32>
  %prod = arith.mulf %dy, %xhat : tensor<8xf32>
  %dot = linalg.reduce ins(%prod : tensor<8xf32>) outs(%z : tensor<f32>) dimensions = [0]
    (%a: f32, %acc: f32) {
      %s = arith.addf %a, %acc : f32
      linalg.yield %s : f32
    }
  %mean = arith.mulf %sum, %n : tensor<f32>
  %meandot = arith.mulf %dot, %n : tensor<f32>
  %bm = linalg.broadcast ins(%mean : tensor<f32>) outs(%e : tensor<8xf32>) dimensions = [0]
  %bd = linalg.broadcast ins(%meandot : tensor<f32>) outs(%e : tensor<8xf32>) dimensions = [0]
  %t0 = arith.subf %dy, %bm : tensor<8xf32>
  %t1 = arith.mulf %xhat, %bd : tensor<8xf32>
  %t2 = arith.subf %t0, %t1 : tensor<8xf32>
  %dx = arith.mulf %r, %t2 : tensor<8xf32>
  %neg = arith.negf %dx : tensor<8xf32>
  %half = arith.constant dense<2.0> : tensor<8xf32>
  %out = arith.divf %neg, %half : tensor<8xf32>
  return %out : tensor<8xf32>
}

// -----

// Grads accumulated over a loop from zero; a slice of the seed inserted
// into zeros; a while loop that carries the accumulator too.
// CHECK-LABEL: func.func @loops
// CHECK: mpt.unscale_check
func.func @loops(%w: tensor<4xf32> {mpt.role = "param"}, %seed: tensor<4xf32> {mpt.role = "loss_grad"})
    -> (tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zeros = arith.constant dense<0.0> : tensor<4xf32>
  %acc = scf.for %i = %c0 to %c4 step %c1 iter_args(%a = %zeros) -> (tensor<4xf32>) {
    %s = tensor.extract_slice %seed[%i] [1] [1] : tensor<4xf32> to tensor<1xf32>
    %part = tensor.insert_slice %s into %zeros[%i] [1] [1] : tensor<1xf32> into tensor<4xf32>
    %scaled = arith.mulf %part, %w : tensor<4xf32>
    %next = arith.addf %a, %scaled : tensor<4xf32>
    scf.yield %next : tensor<4xf32>
  }
  %r:2 = scf.while (%j = %c0, %b = %acc) : (index, tensor<4xf32>) -> (index, tensor<4xf32>) {
    %go = arith.cmpi slt, %j, %c4 : index
    scf.condition(%go) %j, %b : index, tensor<4xf32>
  } do {
  ^bb0(%j: index, %b: tensor<4xf32>):
    %j1 = arith.addi %j, %c1 : index
    %b1 = arith.addf %b, %seed : tensor<4xf32>
    scf.yield %j1, %b1 : index, tensor<4xf32>
  }
  return %r#1 : tensor<4xf32>
}

// -----

// A callee called with a forward value and with a seed-derived one: each
// call is analysed with what it passes (no false non-linearity from
// joining both). An scf.if whose other branch yields zeros.
// CHECK-LABEL: func.func @calls_and_if
// CHECK: mpt.unscale_check
func.func private @scale_by(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  %m = arith.mulf %a, %b : tensor<4xf32>
  return %m : tensor<4xf32>
}

func.func @calls_and_if(%w: tensor<4xf32> {mpt.role = "param"}, %x: tensor<4xf32> {mpt.role = "input"},
                        %seed: tensor<4xf32> {mpt.role = "loss_grad"}, %flag: i1 {mpt.role = "input"})
    -> (tensor<4xf32> {mpt.role = "loss"}, tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  %y = func.call @scale_by(%x, %w) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %g = func.call @scale_by(%seed, %x) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %zeros = arith.constant dense<0.0> : tensor<4xf32>
  %masked = scf.if %flag -> (tensor<4xf32>) {
    scf.yield %g : tensor<4xf32>
  } else {
    scf.yield %zeros : tensor<4xf32>
  }
  return %y, %masked : tensor<4xf32>, tensor<4xf32>
}

// -----

// A parameter the loss does not use has a zero grad: zero is linear (0 / s
// is 0), so it is accepted. The seed op, cast to f16 and back, is linear too.
// CHECK-LABEL: func.func @zero_grad
// CHECK: mpt.unscale_check
func.func @zero_grad(%w: tensor<4xf32> {mpt.role = "param"}, %v: tensor<4xf32> {mpt.role = "param"})
    -> (tensor<f32> {mpt.role = "loss"}, tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64},
        tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 1 : i64}) {
  %z = arith.constant dense<0.0> : tensor<f32>
  %l = linalg.reduce ins(%w : tensor<4xf32>) outs(%z : tensor<f32>) dimensions = [0]
    (%a: f32, %acc: f32) {
      %s = arith.addf %a, %acc : f32
      linalg.yield %s : f32
    }
  %seed = mpt.loss_grad %l : tensor<f32>
  %h = arith.truncf %seed : tensor<f32> to tensor<f16>
  %f = arith.extf %h : tensor<f16> to tensor<f32>
  %e = tensor.empty() : tensor<4xf32>
  %gw = linalg.broadcast ins(%f : tensor<f32>) outs(%e : tensor<4xf32>) dimensions = [0]
  %gv = arith.constant dense<0.0> : tensor<4xf32>
  return %l, %gw, %gv : tensor<f32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// Blocks joined by branches on a forward value, both carrying the
// seed-derived grad: linear, and each return unscales its grad.
// CHECK-LABEL: func.func @blocks
// CHECK-COUNT-2: mpt.unscale_check
func.func @blocks(%w: tensor<f32> {mpt.role = "param"}, %seed: tensor<f32> {mpt.role = "loss_grad"},
                  %flag: i1 {mpt.role = "input"})
    -> (tensor<f32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  %g = arith.mulf %seed, %w : tensor<f32>
  cf.cond_br %flag, ^a(%g : tensor<f32>), ^b
^a(%x: tensor<f32>):
  %two = arith.constant dense<2.0> : tensor<f32>
  %y = arith.mulf %x, %two : tensor<f32>
  return %y : tensor<f32>
^b:
  return %g : tensor<f32>
}

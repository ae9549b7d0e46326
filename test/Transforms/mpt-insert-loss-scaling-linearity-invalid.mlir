// RUN: mpt-opt %s --mpt-insert-loss-scaling --split-input-file --verify-diagnostics
// RUN: mpt-opt %s --mpt-insert-loss-scaling=mode=static --split-input-file --verify-diagnostics
// RUN: mpt-opt %s --auto-mixed-precision --split-input-file --verify-diagnostics

// Loss scaling divides every grad by the scale it multiplied the seed by:
// right only for grads linear in the seed. Each function below has a grad
// that is not, and is refused with the grad and the seed named.

// A backward that never reads the seed (legal while callers pass 1.0).
// expected-error @+1 {{'func.func' op grad result #1 (of parameter #0) does not depend on the backward seed (argument #2): loss scaling would divide it by the scale; compute it from the seed, or leave loss scaling out}}
func.func @seed_unread(%w: tensor<4xf32> {mpt.role = "param"}, %x: tensor<4xf32> {mpt.role = "input"},
                       %seed: tensor<f32> {mpt.role = "loss_grad"})
    -> (tensor<f32> {mpt.role = "loss"}, tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  %zero = arith.constant dense<0.0> : tensor<f32>
  %p = arith.mulf %w, %x : tensor<4xf32>
  %l = linalg.reduce ins(%p : tensor<4xf32>) outs(%zero : tensor<f32>) dimensions = [0]
    (%a: f32, %b: f32) {
      %s = arith.addf %a, %b : f32
      linalg.yield %s : f32
    }
  return %l, %x : tensor<f32>, tensor<4xf32>
}

// -----

// The seed op, computed but not used by the backward.
// expected-error @+1 {{'func.func' op grad result #1 (of parameter #0) does not depend on the backward seed (the op mpt.loss_grad)}}
func.func @seed_op_unread(%w: tensor<f32> {mpt.role = "param"})
    -> (tensor<f32> {mpt.role = "loss"}, tensor<f32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  %l = arith.mulf %w, %w : tensor<f32>
  %seed = mpt.loss_grad %l : tensor<f32>
  %two = arith.constant dense<2.0> : tensor<f32>
  %g = arith.mulf %two, %w : tensor<f32>
  return %l, %g : tensor<f32>, tensor<f32>
}

// -----

// A term not derived from the seed: weight decay added inside the step.
// expected-error @+1 {{'func.func' op grad result #0 (of parameter #0) is not linear in the backward seed (argument #1): dividing it by the scale would not undo the scaled seed}}
func.func @weight_decay(%w: tensor<4xf32> {mpt.role = "param"}, %seed: tensor<f32> {mpt.role = "loss_grad"})
    -> (tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  %e = tensor.empty() : tensor<4xf32>
  %b = linalg.broadcast ins(%seed : tensor<f32>) outs(%e : tensor<4xf32>) dimensions = [0]
  %g = arith.mulf %b, %w : tensor<4xf32>
  %wd = arith.constant dense<0.01> : tensor<4xf32>
  %decay = arith.mulf %wd, %w : tensor<4xf32>
  // expected-note @+1 {{here: adds a term that does not depend on the seed to a seed-derived one}}
  %total = arith.addf %g, %decay : tensor<4xf32>
  return %total : tensor<4xf32>
}

// -----

// The seed times itself.
// expected-error @+1 {{'func.func' op grad result #0 (of parameter #0) is not linear in the backward seed (argument #1)}}
func.func @seed_squared(%w: tensor<f32> {mpt.role = "param"}, %seed: tensor<f32> {mpt.role = "loss_grad"})
    -> (tensor<f32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  // expected-note @+1 {{here: multiplies two seed-derived values}}
  %s2 = arith.mulf %seed, %seed : tensor<f32>
  %g = arith.mulf %s2, %w : tensor<f32>
  return %g : tensor<f32>
}

// -----

// A non-linear op on a seed-derived value.
// expected-error @+1 {{'func.func' op grad result #0 (of parameter #0) is not linear in the backward seed (argument #1)}}
func.func @seed_exp(%w: tensor<f32> {mpt.role = "param"}, %seed: tensor<f32> {mpt.role = "loss_grad"})
    -> (tensor<f32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  %g = arith.mulf %seed, %w : tensor<f32>
  // expected-note @+1 {{here: 'math.exp' is not linear and reads a seed-derived value}}
  %e = math.exp %g : tensor<f32>
  return %e : tensor<f32>
}

// -----

// A matmul that accumulates the seed-derived product onto a non-zero init.
// expected-error @+1 {{'func.func' op grad result #0 (of parameter #0) is not linear in the backward seed (argument #1)}}
func.func @nonzero_init(%w: tensor<4x4xf32> {mpt.role = "param"}, %seed: tensor<4x4xf32> {mpt.role = "loss_grad"})
    -> (tensor<4x4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  // expected-note @+1 {{here: adds a term that does not depend on the seed to a seed-derived one}}
  %g = linalg.matmul ins(%seed, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%w : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %g : tensor<4x4xf32>
}

// -----

// A max over seed-derived values (a reduction that is not a sum).
// expected-error @+1 {{'func.func' op grad result #0 (of parameter #0) is not linear in the backward seed (argument #1)}}
func.func @max_reduction(%w: tensor<f32> {mpt.role = "param"}, %seed: tensor<4xf32> {mpt.role = "loss_grad"})
    -> (tensor<f32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  %ninf = arith.constant dense<0xFF800000> : tensor<f32>
  %m = linalg.reduce ins(%seed : tensor<4xf32>) outs(%ninf : tensor<f32>) dimensions = [0]
    (%a: f32, %b: f32) {
      // expected-note @+1 {{here: 'arith.maximumf' is not linear and reads a seed-derived value}}
      %x = arith.maximumf %a, %b : f32
      linalg.yield %x : f32
    }
  return %m : tensor<f32>
}

// -----

// A loop that carries a seed-derived value together with a free one: the
// accumulator starts from the parameter instead of zero.
// expected-error @+1 {{'func.func' op grad result #0 (of parameter #0) is not linear in the backward seed (argument #1)}}
func.func @loop_free_init(%w: tensor<4xf32> {mpt.role = "param"}, %seed: tensor<4xf32> {mpt.role = "loss_grad"})
    -> (tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %r = scf.for %i = %c0 to %c3 step %c1 iter_args(%acc = %w) -> (tensor<4xf32>) {
    // expected-note @+1 {{here: adds a term that does not depend on the seed to a seed-derived one}}
    %next = arith.addf %acc, %seed : tensor<4xf32>
    scf.yield %next : tensor<4xf32>
  }
  return %r : tensor<4xf32>
}

// -----

// A branch that returns a free value where the other returns the seed's.
// expected-error @+1 {{'func.func' op grad result #0 (of parameter #0) is not linear in the backward seed (argument #1)}}
func.func @if_free_branch(%w: tensor<4xf32> {mpt.role = "param"}, %seed: tensor<4xf32> {mpt.role = "loss_grad"},
                          %flag: i1 {mpt.role = "input"})
    -> (tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  // expected-note @+1 {{here: yields a seed-derived value in one branch and one that does not depend on the seed in the other}}
  %g = scf.if %flag -> (tensor<4xf32>) {
    scf.yield %seed : tensor<4xf32>
  } else {
    scf.yield %w : tensor<4xf32>
  }
  return %g : tensor<4xf32>
}

// -----

// A callee that is non-linear in the argument the seed flows into: the
// note points into the callee.
func.func private @square(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-note @+1 {{here: multiplies two seed-derived values}}
  %y = arith.mulf %x, %x : tensor<4xf32>
  return %y : tensor<4xf32>
}

// expected-error @+1 {{'func.func' op grad result #0 (of parameter #0) is not linear in the backward seed (argument #1)}}
func.func @call_nonlinear(%w: tensor<4xf32> {mpt.role = "param"}, %seed: tensor<4xf32> {mpt.role = "loss_grad"})
    -> (tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  %g = arith.mulf %seed, %w : tensor<4xf32>
  %s = func.call @square(%g) : (tensor<4xf32>) -> tensor<4xf32>
  return %s : tensor<4xf32>
}

// -----

// A callee whose body is not in the module.
func.func private @opaque(tensor<4xf32>) -> tensor<4xf32>

// expected-error @+1 {{'func.func' op grad result #0 (of parameter #0) is not linear in the backward seed (argument #1)}}
func.func @call_external(%w: tensor<4xf32> {mpt.role = "param"}, %seed: tensor<4xf32> {mpt.role = "loss_grad"})
    -> (tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  // expected-note @+1 {{here: calls a function whose body is not in the module with a seed-derived argument}}
  %s = func.call @opaque(%seed) : (tensor<4xf32>) -> tensor<4xf32>
  %g = arith.mulf %s, %w : tensor<4xf32>
  return %g : tensor<4xf32>
}

// -----

// Two grads, one fine and one not: only the bad one is named.
// expected-error @+1 {{'func.func' op grad result #1 (of parameter #1) does not depend on the backward seed (argument #2)}}
func.func @second_grad(%w: tensor<4xf32> {mpt.role = "param"}, %v: tensor<4xf32> {mpt.role = "param"},
                       %seed: tensor<4xf32> {mpt.role = "loss_grad"})
    -> (tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}, tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 1 : i64}) {
  %g = arith.mulf %seed, %v : tensor<4xf32>
  %h = arith.mulf %w, %v : tensor<4xf32>
  return %g, %h : tensor<4xf32>, tensor<4xf32>
}

// -----

// A branch between blocks on a condition derived from the seed.
// expected-error @+1 {{'func.func' op grad result #0 (of parameter #0) is not linear in the backward seed (argument #1)}}
func.func @branch_on_seed(%w: tensor<f32> {mpt.role = "param"}, %seed: tensor<f32> {mpt.role = "loss_grad"})
    -> (tensor<f32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  %s = tensor.extract %seed[] : tensor<f32>
  %zero = arith.constant 0.0 : f32
  %pos = arith.cmpf ogt, %s, %zero : f32
  // expected-note @+1 {{here: branches on a value derived from the seed}}
  cf.cond_br %pos, ^a, ^b
^a:
  %g = arith.mulf %seed, %w : tensor<f32>
  return %g : tensor<f32>
^b:
  %z = arith.constant dense<0.0> : tensor<f32>
  return %z : tensor<f32>
}

// -----

// An scf.if on a condition derived from the seed.
// expected-error @+1 {{'func.func' op grad result #0 (of parameter #0) is not linear in the backward seed (argument #1)}}
func.func @if_on_seed(%w: tensor<f32> {mpt.role = "param"}, %seed: tensor<f32> {mpt.role = "loss_grad"})
    -> (tensor<f32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  %s = tensor.extract %seed[] : tensor<f32>
  %zero = arith.constant 0.0 : f32
  // expected-note @+1 {{here: 'arith.cmpf' is not linear and reads a seed-derived value}}
  %pos = arith.cmpf ogt, %s, %zero : f32
  %g = scf.if %pos -> (tensor<f32>) {
    %m = arith.mulf %seed, %w : tensor<f32>
    scf.yield %m : tensor<f32>
  } else {
    %z = arith.constant dense<0.0> : tensor<f32>
    scf.yield %z : tensor<f32>
  }
  return %g : tensor<f32>
}

// -----

// A recursive callee: not analysed through, non-linear when it reads the seed.
func.func private @rec(%x: tensor<f32>) -> tensor<f32> {
  // expected-note @+1 {{here: calls a function recursively with a seed-derived argument}}
  %y = func.call @rec(%x) : (tensor<f32>) -> tensor<f32>
  return %y : tensor<f32>
}

// expected-error @+1 {{'func.func' op grad result #0 (of parameter #0) is not linear in the backward seed (argument #1)}}
func.func @recursive(%w: tensor<f32> {mpt.role = "param"}, %seed: tensor<f32> {mpt.role = "loss_grad"})
    -> (tensor<f32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  %g = arith.mulf %seed, %w : tensor<f32>
  %r = func.call @rec(%g) : (tensor<f32>) -> tensor<f32>
  return %r : tensor<f32>
}

// RUN: mpt-opt %s --split-input-file --verify-diagnostics

// expected-error @+1 {{unknown 'mpt.role' "weight" on argument #0; expected one of "param", "input", "loss_grad", "loss_scale", "growth_tracker", "hysteresis", "opt_state"}}
func.func @unknown_arg_role(%w: tensor<3xf32> {mpt.role = "weight"}) {
  return
}

// -----

// A result role on an argument is as wrong as an unknown one.
// expected-error @+1 {{unknown 'mpt.role' "loss" on argument #0; expected one of "param", "input", "loss_grad", "loss_scale", "growth_tracker", "hysteresis", "opt_state"}}
func.func @result_role_on_argument(%w: tensor<3xf32> {mpt.role = "loss"}) {
  return
}

// -----

// expected-error @+1 {{unknown 'mpt.role' "param" on result #0; expected one of "loss", "grad", "loss_scale", "growth_tracker", "hysteresis", "found_inf", "param_out", "opt_state", "param_low"}}
func.func @argument_role_on_result(%w: tensor<3xf32>) -> (tensor<3xf32> {mpt.role = "param"}) {
  return %w : tensor<3xf32>
}

// -----

// expected-error @+1 {{'mpt.role' of argument #0 must be a string, one of "param", "input", "loss_grad", "loss_scale", "growth_tracker", "hysteresis", "opt_state"}}
func.func @role_not_string(%w: tensor<3xf32> {mpt.role = 1 : i64}) {
  return
}

// -----

// expected-error @+1 {{unknown mpt attribute 'mpt.kind' on argument #0; arguments take 'mpt.role'}}
func.func @unknown_arg_attr(%w: tensor<3xf32> {mpt.kind = "param"}) {
  return
}

// -----

// expected-error @+1 {{unknown mpt attribute 'mpt.kind' on result #0; results take 'mpt.role', 'mpt.grad_of', 'mpt.updates' and 'mpt.copy_of'}}
func.func @unknown_result_attr(%w: tensor<3xf32>) -> (tensor<3xf32> {mpt.kind = "x"}) {
  return %w : tensor<3xf32>
}

// -----

// expected-error @+1 {{result #0 has 'mpt.role' "grad" but no integer 'mpt.grad_of'; add 'mpt.grad_of = <index of its parameter argument> : i64'}}
func.func @grad_without_grad_of(%w: tensor<3xf32> {mpt.role = "param"})
    -> (tensor<3xf32> {mpt.role = "grad"}) {
  return %w : tensor<3xf32>
}

// -----

// expected-error @+1 {{result #0 has 'mpt.grad_of' = 2 but the function has 1 arguments}}
func.func @grad_of_out_of_range(%w: tensor<3xf32> {mpt.role = "param"})
    -> (tensor<3xf32> {mpt.role = "grad", mpt.grad_of = 2 : i64}) {
  return %w : tensor<3xf32>
}

// -----

// expected-error @+1 {{result #0 is the grad of argument #1, whose 'mpt.role' is "input"; 'mpt.grad_of' must name an argument with 'mpt.role' "param"}}
func.func @grad_of_input(%w: tensor<3xf32> {mpt.role = "param"}, %x: tensor<3xf32> {mpt.role = "input"})
    -> (tensor<3xf32> {mpt.role = "grad", mpt.grad_of = 1 : i64}) {
  return %w : tensor<3xf32>
}

// -----

// expected-error @+1 {{result #0 is the grad of argument #0, whose 'mpt.role' is missing}}
func.func @grad_of_unroled(%w: tensor<3xf32>)
    -> (tensor<3xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  return %w : tensor<3xf32>
}

// -----

// expected-error @+1 {{result #0 (grad, type 'tensor<4xf32>') and its parameter argument #0 (type 'tensor<3xf32>') must have the same type}}
func.func @grad_type_mismatch(%w: tensor<3xf32> {mpt.role = "param"}, %g: tensor<4xf32>)
    -> (tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  return %g : tensor<4xf32>
}

// -----

// expected-error @+1 {{result #0 has 'mpt.grad_of' but its 'mpt.role' is not "grad"}}
func.func @grad_of_without_grad_role(%w: tensor<3xf32> {mpt.role = "param"})
    -> (tensor<3xf32> {mpt.grad_of = 0 : i64}) {
  return %w : tensor<3xf32>
}

// -----

// expected-error @+1 {{'mpt.grad_of' of result #0 must be an integer argument index}}
func.func @grad_of_not_integer(%w: tensor<3xf32> {mpt.role = "param"})
    -> (tensor<3xf32> {mpt.role = "grad", mpt.grad_of = "w"}) {
  return %w : tensor<3xf32>
}

// -----

// expected-error @+1 {{result #0 has 'mpt.role' "loss" but type 'tensor<i32>'; the loss must be a floating-point scalar or tensor}}
func.func @integer_loss(%l: tensor<i32>) -> (tensor<i32> {mpt.role = "loss"}) {
  return %l : tensor<i32>
}

// -----

func.func @seed_twice(%l: tensor<f32>, %s: tensor<f32> {mpt.role = "loss_grad"}) -> tensor<f32> {
  // expected-error @+1 {{'mpt.loss_grad' op conflicts with argument #1 of the enclosing function, which has 'mpt.role' "loss_grad"; a step takes one backward seed, drop one of them}}
  %0 = mpt.loss_grad %l : tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @seed_of_integer(%l: tensor<i32>) -> tensor<i32> {
  // expected-error @+1 {{'mpt.loss_grad' op operand #0 must be floating-point scalar or ranked tensor of floating-point values}}
  %0 = mpt.loss_grad %l : tensor<i32>
  return %0 : tensor<i32>
}

// -----

func.func @seed_unranked(%l: tensor<*xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'mpt.loss_grad' op operand #0 must be floating-point scalar or ranked tensor of floating-point values}}
  %0 = mpt.loss_grad %l : tensor<*xf32>
  return %0 : tensor<*xf32>
}


// -----

// expected-error @+1 {{result #0 has 'mpt.role' "param_out" but no integer 'mpt.updates'; add 'mpt.updates = <index of the argument it is the next value of> : i64'}}
func.func @param_out_without_updates(%w: tensor<3xf32> {mpt.role = "param"}) -> (tensor<3xf32> {mpt.role = "param_out"}) {
  return %w : tensor<3xf32>
}

// -----

// expected-error @+1 {{result #0 ("opt_state") updates argument #0, whose 'mpt.role' is "param"; expected "opt_state"}}
func.func @state_updates_wrong_role(%w: tensor<3xf32> {mpt.role = "param"}) -> (tensor<3xf32> {mpt.role = "opt_state", mpt.updates = 0 : i64}) {
  return %w : tensor<3xf32>
}

// -----

// expected-error @+1 {{result #0 has 'mpt.updates' = 3 but the function has 1 arguments}}
func.func @updates_out_of_range(%s: tensor<f32> {mpt.role = "loss_scale"}) -> (tensor<f32> {mpt.role = "loss_scale", mpt.updates = 3 : i64}) {
  return %s : tensor<f32>
}

// -----

// expected-error @+1 {{result #0 (type 'tensor<4xf32>') and the argument #0 it updates (type 'tensor<3xf32>') must have the same type}}
func.func @updates_type(%w: tensor<3xf32> {mpt.role = "param"}, %x: tensor<4xf32>) -> (tensor<4xf32> {mpt.role = "param_out", mpt.updates = 0 : i64}) {
  return %x : tensor<4xf32>
}

// -----

// expected-error @+1 {{result #0 has 'mpt.updates' but its 'mpt.role' is "grad"; expected "param_out" or a state role ("loss_scale", "growth_tracker", "hysteresis", "opt_state")}}
func.func @updates_on_grad(%w: tensor<3xf32> {mpt.role = "param"}) -> (tensor<3xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64, mpt.updates = 0 : i64}) {
  return %w : tensor<3xf32>
}

// -----

// expected-error @+1 {{result #0 has 'mpt.role' "found_inf" but type 'tensor<f32>'; expected tensor<i1> or i1}}
func.func @found_inf_type(%x: tensor<f32>) -> (tensor<f32> {mpt.role = "found_inf"}) {
  return %x : tensor<f32>
}

// -----

// expected-error @+1 {{result #0 has 'mpt.role' "param_low" but no 'mpt.copy_of' naming a "param" argument}}
func.func @param_low_without_copy_of(%w: tensor<3xf16>) -> (tensor<3xf16> {mpt.role = "param_low"}) {
  return %w : tensor<3xf16>
}

// -----

// expected-error @+1 {{result #0 ("param_low", type 'tensor<3xf32>') must be an f16 or bf16 tensor shaped like argument #0}}
func.func @param_low_not_16bit(%w: tensor<3xf32> {mpt.role = "param"}) -> (tensor<3xf32> {mpt.role = "param_low", mpt.copy_of = 0 : i64}) {
  return %w : tensor<3xf32>
}

// -----

// expected-error @+1 {{result #0 has 'mpt.copy_of' but its 'mpt.role' is missing; expected "param_low"}}
func.func @copy_of_without_role(%w: tensor<3xf32> {mpt.role = "param"}) -> (tensor<3xf32> {mpt.copy_of = 0 : i64}) {
  return %w : tensor<3xf32>
}

// -----

func.func @unscale_nothing(%s: tensor<f32>) {
  // expected-error @+1 {{'mpt.unscale_check' op needs at least one gradient}}
  %inf, %sq = "mpt.unscale_check"(%s) : (tensor<f32>) -> (tensor<i1>, tensor<f32>)
  return
}

// -----

func.func @unscale_f16(%s: tensor<f32>, %g: tensor<4xf16>) {
  // expected-error @+1 {{'mpt.unscale_check' op operand #1 must be variadic of ranked tensor of 32-bit float values}}
  %u, %inf, %sq = mpt.unscale_check %s, %g : tensor<4xf16>
  return
}

// -----

func.func @scale_not_scalar(%s: tensor<2xf32>, %g: tensor<4xf32>) {
  // expected-error @+1 {{'mpt.unscale_check' op operand #0 must be 0D tensor of 32-bit float values}}
  %u, %inf, %sq = "mpt.unscale_check"(%s, %g) : (tensor<2xf32>, tensor<4xf32>) -> (tensor<4xf32>, tensor<i1>, tensor<f32>)
  return
}

// -----

func.func @bad_growth(%s: tensor<f32>, %t: tensor<i32>, %h: tensor<i32>, %inf: tensor<i1>) {
  // expected-error @+1 {{'mpt.update_scale' op growth_factor must be > 1, got 1}}
  %0, %1, %2 = mpt.update_scale %s, %t, %h, %inf {growth_factor = 1.0 : f64, backoff_factor = 0.5 : f64, growth_interval = 2 : i64, hysteresis = 1 : i64, min_scale = 1.0 : f64, max_scale = 2.0 : f64}
  return
}

// -----

func.func @bad_backoff(%s: tensor<f32>, %t: tensor<i32>, %h: tensor<i32>, %inf: tensor<i1>) {
  // expected-error @+1 {{'mpt.update_scale' op backoff_factor must be in (0, 1), got 1.5}}
  %0, %1, %2 = mpt.update_scale %s, %t, %h, %inf {growth_factor = 2.0 : f64, backoff_factor = 1.5 : f64, growth_interval = 2 : i64, hysteresis = 1 : i64, min_scale = 1.0 : f64, max_scale = 2.0 : f64}
  return
}

// -----

func.func @bad_interval(%s: tensor<f32>, %t: tensor<i32>, %h: tensor<i32>, %inf: tensor<i1>) {
  // expected-error @+1 {{'mpt.update_scale' op growth_interval must be >= 1, got 0}}
  %0, %1, %2 = mpt.update_scale %s, %t, %h, %inf {growth_factor = 2.0 : f64, backoff_factor = 0.5 : f64, growth_interval = 0 : i64, hysteresis = 1 : i64, min_scale = 1.0 : f64, max_scale = 2.0 : f64}
  return
}

// -----

func.func @bad_hysteresis(%s: tensor<f32>, %t: tensor<i32>, %h: tensor<i32>, %inf: tensor<i1>) {
  // expected-error @+1 {{'mpt.update_scale' op hysteresis must be >= 1, got 0}}
  %0, %1, %2 = mpt.update_scale %s, %t, %h, %inf {growth_factor = 2.0 : f64, backoff_factor = 0.5 : f64, growth_interval = 2 : i64, hysteresis = 0 : i64, min_scale = 1.0 : f64, max_scale = 2.0 : f64}
  return
}

// -----

func.func @bad_bounds(%s: tensor<f32>, %t: tensor<i32>, %h: tensor<i32>, %inf: tensor<i1>) {
  // expected-error @+1 {{'mpt.update_scale' op needs 0 < min_scale <= max_scale, got 4.000000e+00 and 2.000000e+00}}
  %0, %1, %2 = mpt.update_scale %s, %t, %h, %inf {growth_factor = 2.0 : f64, backoff_factor = 0.5 : f64, growth_interval = 2 : i64, hysteresis = 1 : i64, min_scale = 4.0 : f64, max_scale = 2.0 : f64}
  return
}

// RUN: mpt-opt %s --split-input-file --verify-diagnostics

// expected-error @+1 {{unknown 'mpt.role' "weight" on argument #0; expected one of "param", "input", "loss_grad"}}
func.func @unknown_arg_role(%w: tensor<3xf32> {mpt.role = "weight"}) {
  return
}

// -----

// A result role on an argument is as wrong as an unknown one.
// expected-error @+1 {{unknown 'mpt.role' "loss" on argument #0; expected one of "param", "input", "loss_grad"}}
func.func @result_role_on_argument(%w: tensor<3xf32> {mpt.role = "loss"}) {
  return
}

// -----

// expected-error @+1 {{unknown 'mpt.role' "param" on result #0; expected one of "loss", "grad"}}
func.func @argument_role_on_result(%w: tensor<3xf32>) -> (tensor<3xf32> {mpt.role = "param"}) {
  return %w : tensor<3xf32>
}

// -----

// expected-error @+1 {{'mpt.role' of argument #0 must be a string, one of "param", "input", "loss_grad"}}
func.func @role_not_string(%w: tensor<3xf32> {mpt.role = 1 : i64}) {
  return
}

// -----

// expected-error @+1 {{unknown mpt attribute 'mpt.kind' on argument #0; arguments take 'mpt.role'}}
func.func @unknown_arg_attr(%w: tensor<3xf32> {mpt.kind = "param"}) {
  return
}

// -----

// expected-error @+1 {{unknown mpt attribute 'mpt.kind' on result #0; results take 'mpt.role' and 'mpt.grad_of'}}
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


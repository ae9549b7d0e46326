// An explicit module, so that errors about pass options have a location.
// expected-error @+1 {{mpt-assign-precision: option 'allow': unknown op 'linalg.matmull'}}
module {
  func.func @f(%a: tensor<4xf32>) -> tensor<4xf32> {
    %0 = math.tanh %a : tensor<4xf32>
    return %0 : tensor<4xf32>
  }
}

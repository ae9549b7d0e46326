// The optimizer updates f32 master weights only.
// expected-error @+1 {{'func.func' op parameter #0 has type 'tensor<4xf16>'; the optimizer updates f32 master weights}}
func.func @step(%w: tensor<4xf16> {mpt.role = "param"}) -> (tensor<4xf16> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  return %w : tensor<4xf16>
}

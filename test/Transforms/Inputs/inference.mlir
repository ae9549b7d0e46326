// A function with training roles but neither a seed nor grads.
// expected-error @+1 {{'func.func' op has no backward seed and no grads: loss scaling needs an argument with mpt.role = "loss_grad" (or the op mpt.loss_grad) and results with mpt.role = "grad"}}
func.func @infer(%x: tensor<4xf32> {mpt.role = "input"}) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

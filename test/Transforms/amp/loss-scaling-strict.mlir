// An explicit loss-scaling option is strict: a step with roles but no seed
// and no grads is an error, not silently left unscaled.
// RUN: mpt-opt %s --auto-mixed-precision=loss-scaling=dynamic --verify-diagnostics
// expected-error @+1 {{'func.func' op has no backward seed and no grads}}
func.func @not_a_training_step(%x: tensor<4xf32> {mpt.role = "input"}) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

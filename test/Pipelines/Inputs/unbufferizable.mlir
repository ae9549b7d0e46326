// An op that One-Shot Bufferize does not know (mpt-lower-to-cpu-stages.mlir).
func.func @unknown(%a: tensor<4xf32>) -> tensor<4xf32> {
  %r = "foo.op"(%a) : (tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

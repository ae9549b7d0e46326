//===- MPTOps.td - Operations of the mpt dialect -----------*- tablegen -*-===//

#ifndef MPT_DIALECT_MPT_IR_MPTOPS_TD
#define MPT_DIALECT_MPT_IR_MPTOPS_TD

include "mpt/Dialect/MPT/IR/MPTDialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def MPT_FloatScalarOrTensor : AnyTypeOf<[AnyFloat, RankedTensorOf<[AnyFloat]>],
    "floating-point scalar or ranked tensor of floating-point values">;

def MPT_LossGradOp : MPT_Op<"loss_grad", [Pure, AllTypesMatch<["loss", "result"]>]> {
  let summary = "the backward seed dL/dL: ones shaped like the loss";
  let description = [{
    Stands for the cotangent that seeds the backward half of a training step:
    a value of the loss's type filled with 1.0. It is the in-body alternative
    to an argument with `mpt.role = "loss_grad"`.

    The op keeps the seed recognisable until loss scaling has multiplied it
    by the scale, which is why it has no folder: canonicalization must not
    turn it into an anonymous constant. `mpt-lower-ops` replaces it by an
    `arith.constant` of ones when the loss has a static shape, and by
    `tensor.empty` + `linalg.fill` otherwise.

    ```mlir
    %seed = mpt.loss_grad %loss : tensor<f32>
    ```
  }];
  let arguments = (ins MPT_FloatScalarOrTensor:$loss);
  let results = (outs MPT_FloatScalarOrTensor:$result);
  let assemblyFormat = "$loss attr-dict `:` type($loss)";
  let hasVerifier = 1;
  let builders = [
    OpBuilder<(ins "::mlir::Value":$loss), [{
      build($_builder, $_state, loss.getType(), loss);
    }]>
  ];
}

#endif // MPT_DIALECT_MPT_IR_MPTOPS_TD

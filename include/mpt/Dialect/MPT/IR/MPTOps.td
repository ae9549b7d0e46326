//===- MPTOps.td - Operations of the mpt dialect -----------*- tablegen -*-===//

#ifndef MPT_DIALECT_MPT_IR_MPTOPS_TD
#define MPT_DIALECT_MPT_IR_MPTOPS_TD

include "mpt/Dialect/MPT/IR/MPTDialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

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

// Loss-scaling state lives in rank-0 tensors, so it stays on the device.
def MPT_ScalarF32 : 0DTensorOf<[F32]>,
    BuildableType<"::mlir::RankedTensorType::get({}, $_builder.getF32Type())">;
def MPT_ScalarI32 : 0DTensorOf<[I32]>,
    BuildableType<"::mlir::RankedTensorType::get({}, $_builder.getI32Type())">;
def MPT_ScalarI1 : 0DTensorOf<[I1]>,
    BuildableType<"::mlir::RankedTensorType::get({}, $_builder.getI1Type())">;

def MPT_UnscaleCheckOp : MPT_Op<"unscale_check", [Pure, InferTypeOpAdaptor]> {
  let summary = "unscale gradients in f32 and check them for Inf/NaN, fused";
  let description = [{
    Multiplies every gradient by `1 / scale` in f32 and returns the unscaled
    gradients, one flag `found_inf` that is true when any element of any
    unscaled gradient is an Inf or a NaN, and `sum_sq`, the sum of the
    squares of all unscaled gradients (for clipping by global norm). The
    three are defined together so that one pass over each gradient can
    compute them. With an infinite or NaN result, `found_inf` is set and the
    other results must not be used to update parameters.

    ```mlir
    %g0u, %g1u, %inf, %sq = mpt.unscale_check %scale, %g0, %g1
        : tensor<16x32xf32>, tensor<32xf32>
    ```
  }];
  let arguments = (ins MPT_ScalarF32:$scale,
                       Variadic<RankedTensorOf<[F32]>>:$grads);
  let results = (outs Variadic<RankedTensorOf<[F32]>>:$unscaled,
                      MPT_ScalarI1:$found_inf, MPT_ScalarF32:$sum_sq);
  let assemblyFormat = "$scale `,` $grads attr-dict `:` type($grads)";
  let hasVerifier = 1;
}

def MPT_UpdateScaleOp : MPT_Op<"update_scale", [Pure]> {
  let summary = "the dynamic loss-scale state machine";
  let description = [{
    Computes the next loss-scaling state from `found_inf` of this step
    (state: `scale`, `growth_tracker` = consecutive finite steps,
    `hysteresis_left` = non-finite steps still tolerated before a backoff):

    ```
    if found_inf:
      if hysteresis_left <= 1: scale = max(scale * backoff_factor, min_scale)
      else:                    hysteresis_left -= 1
      growth_tracker = 0
    else:
      growth_tracker += 1
      if growth_tracker >= growth_interval:
        grown = scale * growth_factor
        if grown is finite: scale = min(grown, max_scale)
        growth_tracker = 0
        hysteresis_left = hysteresis
    ```

    With `hysteresis = 1` and no bounds this is PyTorch GradScaler's update
    (`_amp_update_scale_`); `hysteresis` > 1 tolerates that many
    consecutive non-finite steps before a backoff (DeepSpeed's
    `hysteresis`); `min_scale` and `max_scale` bound the scale (DeepSpeed's
    `min_loss_scale`, Apex's cap of 2^24).

    ```mlir
    %s, %t, %h = mpt.update_scale %scale, %tracker, %hyst, %found_inf
        {growth_factor = 2.0, backoff_factor = 0.5, growth_interval = 2000,
         hysteresis = 1, min_scale = 1.0, max_scale = 16777216.0}
    ```
  }];
  let arguments = (ins MPT_ScalarF32:$scale, MPT_ScalarI32:$growth_tracker,
                       MPT_ScalarI32:$hysteresis_left, MPT_ScalarI1:$found_inf,
                       F64Attr:$growth_factor, F64Attr:$backoff_factor,
                       I64Attr:$growth_interval, I64Attr:$hysteresis,
                       F64Attr:$min_scale, F64Attr:$max_scale);
  let results = (outs MPT_ScalarF32:$new_scale,
                      MPT_ScalarI32:$new_growth_tracker,
                      MPT_ScalarI32:$new_hysteresis_left);
  let assemblyFormat = [{
    $scale `,` $growth_tracker `,` $hysteresis_left `,` $found_inf attr-dict
  }];
  let hasVerifier = 1;
}

#endif // MPT_DIALECT_MPT_IR_MPTOPS_TD

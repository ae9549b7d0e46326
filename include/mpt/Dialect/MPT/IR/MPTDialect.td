//===- MPTDialect.td - The mpt dialect ---------------------*- tablegen -*-===//
//
// The mpt dialect: ops and discardable attributes for mixed-precision
// training steps.
//
//===----------------------------------------------------------------------===//

#ifndef MPT_DIALECT_MPT_IR_MPTDIALECT_TD
#define MPT_DIALECT_MPT_IR_MPTDIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/EnumAttr.td"

def MPT_Dialect : Dialect {
  let name = "mpt";
  let cppNamespace = "::mpt";
  let summary = "Mixed-precision training: roles of a training step and its ops";
  let description = [{
    The `mpt` dialect describes an FP32 training step written in upstream
    dialects (linalg, tensor, arith, math, scf on ranked tensors) and the
    operations mpt's passes add while turning it into a mixed-precision step.

    A training step is a public `func.func` whose arguments and results carry
    *roles* as discardable attributes. The dialect verifies them:

    | attribute | on | values |
    | --- | --- | --- |
    | `mpt.role` | argument | `"param"`, `"input"`, `"loss_grad"`, `"loss_scale"`, `"growth_tracker"`, `"hysteresis"`, `"opt_state"` |
    | `mpt.role` | result | `"loss"`, `"grad"`, `"loss_scale"`, `"growth_tracker"`, `"hysteresis"`, `"found_inf"`, `"param_out"`, `"opt_state"`, `"param_low"` |
    | `mpt.grad_of` | result with role `"grad"` | index of a `"param"` argument of the same type |
    | `mpt.updates` | result with role `"param_out"`, `"loss_scale"`, `"growth_tracker"`, `"hysteresis"` or `"opt_state"` | index of the argument whose next value it is (same type; a `"param"` for `"param_out"`, else the same role) |
    | `mpt.copy_of` | result with role `"param_low"` | index of the `"param"` argument it is the 16-bit copy of |

    * `param`: a trainable weight; its FP32 value is the master copy.
    * `input`: batch data or labels.
    * `loss_grad`: the backward seed dL/dL; callers pass 1.0. Instead of this
      argument, the body may hold the op `mpt.loss_grad`.
    * `loss`: the loss, a floating-point scalar or tensor.
    * `grad`: the gradient of the parameter named by `mpt.grad_of`.

    Roles added by mpt's passes (state is threaded through the signature:
    an argument in, its next value out, linked by `mpt.updates`):

    * `loss_scale` (`tensor<f32>`), `growth_tracker` and `hysteresis`
      (`tensor<i32>`): the dynamic loss-scaling state
      (`mpt-insert-loss-scaling`).
    * `found_inf` (`tensor<i1>` result): some gradient had an Inf or NaN.
    * `param_out`: a parameter after the optimizer update;
      `opt_state`: optimizer state (momentum, Adam moments, step count)
      (`mpt-attach-optimizer`).
    * `param_low`: the 16-bit working copy of a parameter, returned for
      callers that keep it between steps.

    Attributes on ops, for automatic mixed precision:

    | attribute | on | values |
    | --- | --- | --- |
    | `mpt.precision` | any op | `"f32"`, `"f16"`, `"bf16"`: the user's choice, which wins |
    | `mpt.precision` | a function | `"f32"`: leave the whole function alone |
    | `mpt.assigned` | any op | `"f32"`, `"f16"`, `"bf16"`: the decision of `mpt-assign-precision` |
    | `mpt.amp_report` | the module | dictionary of counts, read by `mpt-write-precision-report` |

    Example:

    ```mlir
    func.func @step(%w: tensor<4x3xf32> {mpt.role = "param"},
                    %x: tensor<8x4xf32> {mpt.role = "input"},
                    %seed: tensor<f32> {mpt.role = "loss_grad"})
        -> (tensor<f32> {mpt.role = "loss"},
            tensor<4x3xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64})
    ```
  }];
  let hasOperationAttrVerify = 1;
  let hasRegionArgAttrVerify = 1;
  let hasRegionResultAttrVerify = 1;
  let dependentDialects = ["::mlir::arith::ArithDialect"];
  let extraClassDeclaration = [{
    /// Names of the discardable attributes this dialect verifies.
    static constexpr ::llvm::StringLiteral kRoleAttrName = "mpt.role";
    static constexpr ::llvm::StringLiteral kGradOfAttrName = "mpt.grad_of";
    static constexpr ::llvm::StringLiteral kUpdatesAttrName = "mpt.updates";
    static constexpr ::llvm::StringLiteral kCopyOfAttrName = "mpt.copy_of";
  }];
}

/// The role of a training-step argument or result (`mpt.role`).
def MPT_Role : I32EnumAttr<"Role", "role of a training-step argument or result", [
    I32EnumAttrCase<"Param", 0, "param">,
    I32EnumAttrCase<"Input", 1, "input">,
    I32EnumAttrCase<"LossGrad", 2, "loss_grad">,
    I32EnumAttrCase<"Loss", 3, "loss">,
    I32EnumAttrCase<"Grad", 4, "grad">,
    I32EnumAttrCase<"LossScale", 5, "loss_scale">,
    I32EnumAttrCase<"GrowthTracker", 6, "growth_tracker">,
    I32EnumAttrCase<"Hysteresis", 7, "hysteresis">,
    I32EnumAttrCase<"FoundInf", 8, "found_inf">,
    I32EnumAttrCase<"ParamOut", 9, "param_out">,
    I32EnumAttrCase<"OptState", 10, "opt_state">,
    I32EnumAttrCase<"ParamLow", 11, "param_low">
  ]> {
  let cppNamespace = "::mpt";
  let genSpecializedAttr = 0;
}

class MPT_Op<string mnemonic, list<Trait> traits = []>
    : Op<MPT_Dialect, mnemonic, traits>;

#endif // MPT_DIALECT_MPT_IR_MPTDIALECT_TD

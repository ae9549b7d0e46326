//===- Passes.td - Passes of mpt ---------------------------*- tablegen -*-===//

#ifndef MPT_TRANSFORMS_PASSES_TD
#define MPT_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def LowerMPTOps : Pass<"mpt-lower-ops"> {
  let summary = "Lower mpt ops to linalg, tensor and arith";
  let description = [{
    Replaces every op of the `mpt` dialect by upstream ops so that the step
    can go through `mpt-lower-to-cpu` or a GPU pipeline. Runs on any op; the
    lowering patterns are exported as `mpt::populateLowerMPTOpsPatterns`.

    `mpt.unscale_check` becomes, per gradient, an elementwise
    `linalg.generic` (the unscaled values) and a reduction computing the
    Inf/NaN flag and the sum of squares; `mpt.update_scale` becomes scalar
    arith with selects on `tensor.extract`ed state. `mpt.loss_grad`
    becomes a constant of ones when the loss has a static shape, and
    `tensor.empty` + `linalg.fill` otherwise:

    ```mlir
    // before
    %seed = mpt.loss_grad %loss : tensor<f32>
    // after
    %seed = arith.constant dense<1.000000e+00> : tensor<f32>
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect"
  ];
  let statistics = [
    Statistic<"numLowered", "num-lowered", "Number of mpt ops lowered">
  ];
}

def PrepareABI : Pass<"mpt-prepare-abi", "::mlir::ModuleOp"> {
  let summary = "Fix the calling convention of public functions for AOT callers";
  let description = [{
    Runs before bufferization on the public `func.func`s with a body:

    * `c-interface` sets `llvm.emit_c_interface`, so that
      `convert-func-to-llvm` emits `_mlir_ciface_<name>`, which takes memref
      descriptors by pointer (several results come back through a pointer
      to a struct). mpt's Python loader calls these.
    * unless `writable-args` is set, every tensor argument gets
      `bufferization.writable = false`: the step then never writes into the
      caller's buffers (a seed or a parameter stays as it was passed), and
      bufferization copies where an op would have updated one in place.

    ```mlir
    // before
    func.func @step(%x: tensor<4xf32>) -> tensor<4xf32>
    // after
    func.func @step(%x: tensor<4xf32> {bufferization.writable = false})
        -> tensor<4xf32> attributes {llvm.emit_c_interface}
    ```
  }];
  let options = [
    Option<"cInterface", "c-interface", "bool", /*default=*/"true",
           "Give public functions a C entry point (_mlir_ciface_<name>)">,
    Option<"writableArgs", "writable-args", "bool", /*default=*/"false",
           "Let the step update its tensor arguments in place">
  ];
  let dependentDialects = [
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::LLVM::LLVMDialect"
  ];
  let statistics = [
    Statistic<"numFunctions", "num-functions", "Public functions prepared">,
    Statistic<"numProtected", "num-protected-args",
              "Tensor arguments marked not writable">
  ];
}

def StripForeignAttrs : Pass<"mpt-strip-foreign-attrs", "::mlir::ModuleOp"> {
  let summary = "Drop discardable attributes whose values need other dialects";
  let description = [{
    After conversion to the LLVM dialect some ops still carry discardable
    attributes of the dialect they came from, e.g. upstream's
    `arith-emulate-unsupported-floats` marks its casts with
    `fastmath = #arith.fastmath<contract>`, which `convert-arith-to-llvm`
    copies onto `llvm.fpext`. Tools that register only the LLVM dialect
    (`mlir-runner`) cannot parse such IR. This pass removes every
    discardable attribute whose value belongs to a dialect other than
    `builtin` and `llvm`; inherent attributes are kept.

    ```mlir
    // before
    %1 = llvm.fpext %0 {fastmath = #arith.fastmath<contract>} : f16 to f32
    // after
    %1 = llvm.fpext %0 : f16 to f32
    ```

    The pass also registers an alias for literal LLVM structs of 16 or more
    members (`!llvm_struct = !llvm.struct<(...)>`), printed once at the top
    of the module. A function with n results returns such a struct, built
    by n `llvm.insertvalue`s: written out in each of them, the type made the
    text quadratic in n (600 MB for a 100k-op step).
  }];
  let statistics = [
    Statistic<"numStripped", "num-stripped", "Attributes removed">
  ];
}

def StripDialect : Pass<"mpt-strip-dialect", "::mlir::ModuleOp"> {
  let summary = "Remove what is left of the mpt dialect after mpt-lower-ops";
  let description = [{
    Makes a step plain upstream IR for a compiler that does not know the
    `mpt` dialect (IREE, or any MLIR tool built without mpt): it removes
    every attribute named `mpt.*` — the roles on function arguments and
    results (`mpt.role`, `mpt.grad_of`, `mpt.updates`, `mpt.copy_of`), the
    precision marks on ops and functions (`mpt.precision`, `mpt.assigned`)
    and the report on the module (`mpt.amp_report`) — and every other
    discardable attribute whose value belongs to the `mpt` dialect.
    Inherent attributes are kept.

    An op of the `mpt` dialect cannot be removed without changing what the
    step computes: the pass fails on one, naming it (run `mpt-lower-ops`
    first, as the pipeline `mpt-export` does).

    With `keep-roles`, the four role attributes stay on function arguments
    and results: their values are builtin strings and integers, so a tool
    without the dialect still parses them (IREE keeps or ignores them),
    and a caller can still tell which result is the gradient of which
    parameter.

    ```mlir
    // before
    func.func @step(%w: tensor<4xf32> {mpt.role = "param"}, ...)
        -> (tensor<f32> {mpt.role = "loss"}, ...)
    // after
    func.func @step(%w: tensor<4xf32>, ...) -> (tensor<f32>, ...)
    ```
  }];
  let options = [
    Option<"keepRoles", "keep-roles", "bool", /*default=*/"false",
           "Keep mpt.role, mpt.grad_of, mpt.updates and mpt.copy_of on "
           "function arguments and results">
  ];
  let statistics = [
    Statistic<"numStripped", "num-stripped", "Attributes removed">
  ];
}

def AssignPrecision : Pass<"mpt-assign-precision", "::mlir::ModuleOp"> {
  let summary = "Decide which ops of an FP32 step run in 16 bits";
  let description = [{
    Colours every op that reads or writes f32 values with an attribute
    `mpt.assigned = "f16"` (or `"bf16"`) or `mpt.assigned = "f32"`, by the
    op lists of docs/AutoMixedPrecision.md, in the spirit of TensorFlow's
    AutoMixedPrecision:

    1. *allow* ops (contractions) are 16-bit; *deny* ops, ops in no list, and
       the op that produces the `loss` result are f32.
    2. f32 spreads forward from deny ops through *infer*, *clear* and
       reduction ops (their results are sensitive too).
    3. An *infer* op between a 16-bit producer and an allow op is 16-bit
       (allow -> infer -> allow stays 16-bit: no cast ping-pong).
    4. A *clear* op is 16-bit when every user takes a 16-bit value from it,
       or when it lies between 16-bit ops like an infer op.
    5. A reduction reads 16 bits when its input is 16-bit; it accumulates
       and returns f32 (see `mpt-apply-precision`).

    An op stays f32 (without tainting its users) when it reads a constant
    whose 16-bit rounding would change its result (`x / 1e5` in f16; an
    epsilon added or a `FLT_MAX` clamp bound is fine), together with the
    ops that carry the constant to it, or when its body holds an op that
    has no 16-bit form (`arith.bitcast`, a cast between f16 and bf16): the
    latter with a remark. docs/AutoMixedPrecision.md gives the rules.

    A user's `mpt.precision = "f32" | "f16" | "bf16"` on an op wins;
    `mpt.precision = "f32"` on a function leaves the function alone. Loops,
    branches and calls keep their boundary values f32 (ops inside their
    regions are coloured as usual), so tied values always agree.

    Counts are recorded for `mpt-write-precision-report`.

    ```mlir
    // after mpt-assign-precision
    %0 = linalg.matmul {mpt.assigned = "f16"} ins(%x, %w : ...) outs(...)
    %1 = math.exp %0 {mpt.assigned = "f32"} : tensor<8x8xf32>
    ```
  }];
  let options = [
    Option<"dtype", "dtype", "std::string", /*default=*/"\"f16\"",
           "16-bit type: f16 or bf16">,
    Option<"allow", "allow", "std::string", /*default=*/"\"\"",
           "Op names added to the allow list (-name removes one)">,
    Option<"infer", "infer", "std::string", /*default=*/"\"\"",
           "Op names added to the infer list (-name removes one)">,
    Option<"clear", "clear", "std::string", /*default=*/"\"\"",
           "Op names added to the clear list (-name removes one)">,
    Option<"deny", "deny", "std::string", /*default=*/"\"\"",
           "Op names added to the deny list (-name removes one)">,
    Option<"policyFile", "policy", "std::string", /*default=*/"\"\"",
           "File with 'allow: a, b' / 'deny: -c' lines applied before the "
           "list options">
  ];
  let statistics = [
    Statistic<"numSeen", "ops-seen", "Ops that read or write f32 values">,
    Statistic<"numLow", "ops-low", "Ops assigned 16 bits">,
    Statistic<"numF32", "ops-f32", "Ops kept f32">
  ];
}

def ApplyPrecision : Pass<"mpt-apply-precision", "::mlir::ModuleOp"> {
  let summary = "Retype ops as assigned and insert casts at the boundaries";
  let description = [{
    Follows the `mpt.assigned` attributes of `mpt-assign-precision`:

    * a 16-bit contraction or reduction reads 16-bit inputs and keeps its
      f32 accumulator (`outs`) and f32 result; its body widens the inputs
      (`linalg.matmul ins(f16, f16) outs(f32)`);
    * any other 16-bit op is retyped, its body (nested regions included)
      and constants with it; an op whose body holds an op without a 16-bit
      form is an error (`mpt-assign-precision` never assigns one);
    * `arith.truncf` / `arith.extf` are inserted where a value crosses
      between f32 and 16 bits: at most one cast per (value, type), placed
      right after the value's definition (casts of function arguments at the
      function entry: one working copy per parameter per step).

    The `mpt.assigned` attributes are removed. With `keep-io-types` (the
    default) the function signature is unchanged; without it, an argument
    that is only ever read in 16 bits becomes 16-bit, and a result that is
    computed in 16 bits is returned as such - only inputs and values
    without a role: parameters, the seed, the loss, grads and threaded state
    stay as they are (master weights, f32 gradients).
    `return-16bit-params` adds a result with role `param_low` for every
    parameter that has a 16-bit working copy, for callers that keep the
    copies between steps.

    ```mlir
    // before
    %0 = linalg.matmul {mpt.assigned = "f16"}
           ins(%x, %w : tensor<8x4xf32>, tensor<4x4xf32>)
           outs(%acc : tensor<8x4xf32>) -> tensor<8x4xf32>
    // after
    %xh = arith.truncf %x : tensor<8x4xf32> to tensor<8x4xf16>
    %wh = arith.truncf %w : tensor<4x4xf32> to tensor<4x4xf16>
    %0 = linalg.matmul ins(%xh, %wh : tensor<8x4xf16>, tensor<4x4xf16>)
           outs(%acc : tensor<8x4xf32>) -> tensor<8x4xf32>
    ```
  }];
  let options = [
    Option<"keepIOTypes", "keep-io-types", "bool", /*default=*/"true",
           "Keep the function signatures unchanged">,
    Option<"returnLowParams", "return-16bit-params", "bool",
           /*default=*/"false",
           "Also return each parameter's 16-bit working copy (role "
           "param_low, mpt.copy_of = its argument)">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
  let statistics = [
    Statistic<"numCasts", "casts-inserted", "Casts inserted">,
    Statistic<"numRetyped", "ops-retyped", "Ops retyped to 16 bits">
  ];
}

def FoldCasts : Pass<"mpt-fold-casts", "::mlir::ModuleOp"> {
  let summary = "Fold, deduplicate and hoist floating-point casts";
  let description = [{
    Cleans up `arith.truncf` / `arith.extf` on tensors and scalars:

    * `truncf(extf(x))` back to the type of `x` is `x` (exact round trip);
    * `extf(truncf(x))` rounds, so it is kept, unless
      `allow-excess-precision` lets it become `x`;
    * a cast of a constant becomes a constant of the new type;
    * casts of the same value to the same type are merged into one, placed
      right after the value's definition (for function arguments: at the
      function entry, one working copy per parameter).

    Casts inside linalg bodies are left alone.

    ```mlir
    // before
    %a = arith.extf %h : tensor<4xf16> to tensor<4xf32>
    %b = arith.truncf %a : tensor<4xf32> to tensor<4xf16>
    // after: uses of %b use %h
    ```
  }];
  let options = [
    Option<"allowExcessPrecision", "allow-excess-precision", "bool",
           /*default=*/"false",
           "Fold extf(truncf(x)) to x (skips a rounding the program asked "
           "for)">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
  let statistics = [
    Statistic<"numRemoved", "casts-removed", "Casts removed">
  ];
}

def WritePrecisionReport
    : Pass<"mpt-write-precision-report", "::mlir::ModuleOp"> {
  let summary = "Write the counts of automatic mixed precision as JSON";
  let description = [{
    `mpt-assign-precision`, `mpt-apply-precision` and `mpt-fold-casts`
    record their counts in the module attribute `mpt.amp_report`. This pass
    removes that attribute and, when `path` is set, writes the counts as
    JSON to `path` (`-` for stderr) and prints the summary line
    `Converted N/M ops to f16 using K casts` to stderr. Debian's LLVM is
    built without pass statistics, so this report is how the counts reach a
    user. Counts saturate at 2^63 - 1 (`bytes_16bit` of a huge batch). The
    pass changes no op: it preserves all analyses, so no verifier run
    follows it.
  }];
  let options = [
    Option<"path", "path", "std::string", /*default=*/"\"\"",
           "Where to write the JSON report ('-' for stderr)">
  ];
}

def InsertLossScaling : Pass<"mpt-insert-loss-scaling", "::mlir::ModuleOp"> {
  let summary = "Scale the backward seed, unscale and check the grads, on device";
  let description = [{
    For every function with a backward seed (an argument with
    `mpt.role = "loss_grad"` or the op `mpt.loss_grad`) and gradient results
    (`mpt.role = "grad"`):

    * the seed is multiplied by the loss scale, so that the backward half
      computes scaled gradients (small gradients stay above the 16-bit
      underflow threshold);
    * the gradients leave through `mpt.unscale_check`: unscaled in f32, with
      one `found_inf` flag for all of them, returned as a new result with
      role `found_inf`;
    * `mode=dynamic` threads the state through the signature: new
      arguments `loss_scale` (`tensor<f32>`), `growth_tracker` and
      `hysteresis` (`tensor<i32>`), and their next values as results
      (`mpt.updates` names the argument), computed by `mpt.update_scale`
      with the options below. Nothing goes back to the host.
    * `mode=static` uses the constant `init-scale` and still checks.

    A function with a seed but no grads, or grads but no seed, is an error
    that names the missing role; a function with neither is skipped (with
    `strict`, it is an error when it has any training role).

    Dividing a grad by the scale undoes the scaled seed only when the grad
    is linear in the seed. The pass proves it by dataflow (through arith,
    math, tensor, every linalg payload, scf loops and branches, and calls,
    each callee analysed with the arguments it is passed) and refuses, naming
    the grad, the seed and the op where linearity is lost, a grad that does
    not depend on the seed or has a term that does not (`g + wd * w`).
    A grad that is identically zero is accepted.

    A step whose seed or grads are already 16-bit is left as it is, with a
    remark (with `strict`, an error). A step that another function of the
    module calls is refused, naming the caller: the call would not match.
    The options must fit the state they become: the scale, the factors and
    the bounds finite in f32, `growth-interval` and `hysteresis` in
    [1, 2^31 - 1] (i32 state).

    ```mlir
    // after, mode=dynamic
    func.func @step(..., %seed: tensor<f32> {mpt.role = "loss_grad"},
                    %scale: tensor<f32> {mpt.role = "loss_scale"}, ...)
      %s = arith.mulf %seed, %scale : tensor<f32>
      ...
      %g, %inf, %sq = mpt.unscale_check %scale, %grad : tensor<4x4xf32>
      %ns, %nt, %nh = mpt.update_scale %scale, %tracker, %hyst, %inf {...}
    ```
  }];
  let options = [
    Option<"mode", "mode", "std::string", /*default=*/"\"dynamic\"",
           "static or dynamic">,
    Option<"initScale", "init-scale", "double", /*default=*/"65536.0",
           "Initial (or static) loss scale">,
    Option<"growthFactor", "growth-factor", "double", /*default=*/"2.0",
           "Factor the scale grows by after growth-interval finite steps">,
    Option<"backoffFactor", "backoff-factor", "double", /*default=*/"0.5",
           "Factor the scale shrinks by on a non-finite step">,
    Option<"growthInterval", "growth-interval", "int64_t", /*default=*/"2000",
           "Consecutive finite steps before the scale grows (at most "
           "2^31 - 1)">,
    Option<"hysteresis", "hysteresis", "int64_t", /*default=*/"1",
           "Non-finite steps tolerated before a backoff (1: back off at once; "
           "at most 2^31 - 1)">,
    Option<"minScale", "min-scale", "double", /*default=*/"1.0",
           "Lower bound of the scale">,
    Option<"maxScale", "max-scale", "double", /*default=*/"16777216.0",
           "Upper bound of the scale (2^24)">,
    Option<"strict", "strict", "bool", /*default=*/"false",
           "Error on functions with training roles but no seed and no grads, "
           "and on 16-bit seeds or grads (default: left alone, with a "
           "remark)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def DataParallel : Pass<"mpt-data-parallel", "::mlir::ModuleOp"> {
  let summary = "All-reduce (average) the grads of a step across data-parallel ranks";
  let description = [{
    Makes a training step data-parallel: every rank runs it on its own shard
    of the batch, and the grads are summed across ranks and divided by their
    number, so that each rank gets the grads of the whole batch's mean loss
    (PyTorch DDP's semantics). The collectives are upstream's `shard`
    dialect: a one-axis `shard.grid @dp` (its size `world-size`, or `?`: the
    launcher's world size at run time) and `shard.all_reduce ... reduction =
    sum` per bucket.

    Buckets: the grads in the order the backward computes them (their
    definitions in the function body), consecutive grads of one element
    type and static shapes together until a bucket holds `bucket-mb` MiB
    (25, PyTorch DDP's default; 0: one all-reduce per grad; a grad of
    dynamic shape is a bucket of its own). A bucket of several grads is laid
    end to end in one flat tensor (`tensor.insert_slice`), reduced once and
    taken apart (`tensor.extract_slice`). Each bucket's all-reduce is placed
    right after its last grad is computed, so that it may run while the
    rest of the backward does.

    With loss scaling (after `--auto-mixed-precision`): the scaled grads are
    reduced before `mpt.unscale_check`, which then checks, unscales and
    takes the sum of squares (clipping) of the reduced grads, so clipping
    uses the global norm; it unscales by `1 / (scale * N)`, which makes the
    average free (without loss scaling the sums are multiplied by `1/N`);
    its `found_inf` is combined across ranks
    (`shard.all_reduce ... reduction = max`) before the scale update and
    the optimizer read it, so that every rank skips the same steps and keeps
    the same scale. Without loss scaling, the grads the step returns (role
    `grad`) are reduced. Run it before `mpt-attach-optimizer` (a step that
    already updates its parameters is refused). The loss stays the rank's
    own.

    `reduce-type=bf16|f16` rounds grads wider than 16 bits to that type for
    the all-reduce and sums them in it (half the bytes of f32 grads; NCCL
    adds in the type at each hop); the sum comes back in the grads' type
    for the average and the unscale.

    `remarks` emits one remark per bucket (grads, bytes, where it is
    placed). Errors: world-size < 0, bucket-mb < 0, an unknown reduce-type,
    a symbol named like the
    grid, no function with grads, a step with the optimizer attached, a
    body of several blocks, grads that are not float tensors.
  }];
  let options = [
    Option<"worldSize", "world-size", "int64_t", /*default=*/"0",
           "Number of ranks (0: the launcher's, read at run time through "
           "shard.grid_shape)">,
    Option<"bucketMb", "bucket-mb", "double", /*default=*/"25.0",
           "MiB of grads per all-reduce (0: one all-reduce per grad)">,
    Option<"gridName", "grid", "std::string", /*default=*/"\"dp\"",
           "Name of the shard.grid of the ranks">,
    Option<"remarks", "remarks", "bool", /*default=*/"false",
           "Emit a remark for each bucket">,
    Option<"reduceType", "reduce-type", "std::string", /*default=*/"\"grad\"",
           "Element type grads are all-reduced in: grad (their own), or "
           "bf16 / f16 (rounded to it: half the bytes of f32 grads on the "
           "wire, summed in it; a trade-off, see docs/DataParallel.md)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::shard::ShardDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def SingleProcessCollectives : Pass<"mpt-single-process-collectives",
                                    "::mlir::ModuleOp"> {
  let summary = "Lower shard collectives for a single process (the CPU path)";
  let description = [{
    The CPU path runs one process. `shard.all_reduce` over a grid of one
    process is its input, converted to the result's element type where an
    all-reduce widens; `shard.grid_shape` is 1, `shard.process_linear_index`
    and `shard.process_multi_index` are 0; grids nothing refers to any more
    are erased. A dynamic grid axis (`shape = ?`: the launcher's world size)
    holds the one process here, so a step made by `mpt-data-parallel` with
    world-size 0 or 1 runs on the CPU and gives the single-process step's
    numbers. A grid with a static axis of another size is an error, as is
    any other shard op. `mpt-lower-to-cpu` runs it first.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def AttachOptimizer : Pass<"mpt-attach-optimizer", "::mlir::ModuleOp"> {
  let summary = "Turn a grads-form step into an update-form step";
  let description = [{
    For every function with results of role `grad`, appends the optimizer:
    the parameters and the optimizer state come in, the updated parameters
    (role `param_out`) and state (role `opt_state`) go out, each result
    naming its argument with `mpt.updates`. The grad results are dropped
    unless `keep-grads`. The update runs in f32 on the master weights, one
    fused `linalg.generic` per parameter.

    When the step has a `found_inf` result (from loss scaling), the update
    sits in an `scf.if`: on a non-finite step the parameters and the state
    are returned unchanged (bit for bit) and nothing is computed, as fused
    optimizers with `found_inf` do.

    Update rules (g: the unscaled grad, after clipping):

    * `sgd`: `p -= lr * (g + wd * p)`
    * `momentum`: `b = momentum * b + (g + wd * p)`; `p -= lr * b`
      (state `b`, zeros at the start; PyTorch SGD, dampening 0)
    * `adam`: `g += wd * p`; `m = b1 m + (1 - b1) g`;
      `v = b2 v + (1 - b2) g^2`; `t += 1`;
      `p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)`
      (state `m`, `v` per parameter, then the step count `t`, `tensor<f32>`)
    * `adamw`: as adam without `wd` in `g`, and `p *= 1 - lr * wd` first
    * `clip-norm` > 0: `g *= min(1, clip / (||all grads||_2 + 1e-6))`, the
      norm over all unscaled grads taken from `mpt.unscale_check`'s sum of
      squares when the grads come from it (fused with the unscale).

    New state arguments follow the existing arguments in parameter order:
    one buffer per parameter (`momentum`), or `m` then `v` per parameter and
    last the step count (`adam`, `adamw`).

    A step that another function of the module calls is refused, naming the
    caller: it would receive updated parameters where it read grads, or miss
    the new state arguments.
  }];
  let options = [
    Option<"kind", "kind", "std::string", /*default=*/"\"sgd\"",
           "sgd, momentum, adam or adamw">,
    Option<"lr", "lr", "double", /*default=*/"1e-3", "Learning rate">,
    Option<"momentum", "momentum", "double", /*default=*/"0.9",
           "Momentum (kind=momentum)">,
    Option<"beta1", "beta1", "double", /*default=*/"0.9", "Adam beta1">,
    Option<"beta2", "beta2", "double", /*default=*/"0.999", "Adam beta2">,
    Option<"eps", "eps", "double", /*default=*/"1e-8", "Adam epsilon">,
    Option<"weightDecay", "weight-decay", "double", /*default=*/"0.0",
           "Weight decay (L2 in the grad; decoupled for adamw)">,
    Option<"clipNorm", "clip-norm", "double", /*default=*/"0.0",
           "Clip grads by global norm (0: off)">,
    Option<"keepGrads", "keep-grads", "bool", /*default=*/"false",
           "Keep the grad results">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

//===----------------------------------------------------------------------===//
// Lowering passes whose cost stays linear in the size of the step
//===----------------------------------------------------------------------===//

def FoldTransposes : Pass<"mpt-fold-transposes"> {
  let summary = "Fold transposes into the contractions that read them";
  let description = [{
    A backward reads weights and activations transposed (`dX = dY W^T`,
    `dW = X^T dY`). A contraction on tensors (`linalg.matmul`,
    `linalg.batch_matmul`, or a contraction `linalg.generic`) that reads the
    result of a `linalg.transpose` becomes a `linalg.generic` that reads the
    transpose's input through the composed indexing map, with the
    contraction's own body (casts included) and discardable attributes. The
    transpose is then dead unless something else reads it. The values
    computed do not change: the same products are summed in the same order.

    A float cast (`arith.truncf` / `arith.extf` on a tensor, or an
    elementwise `linalg.generic` that only casts its input) of a
    `linalg.transpose` that only contractions read is moved before the
    transpose, which the contractions then fold: a mixed-precision backward
    casts saved activations transposed that its forward already cast as
    they are (attention's probabilities in `dV = P^T dO`): after the swap
    the forward's cast of the same value is reused (when it comes before in
    the same block) and no kernel writes a transposed copy. Casting commutes with moving
    elements: the values do not change.

    With `generalize` (default), `linalg.broadcast`, `linalg.reduce` and the
    transposes that no contraction reads become `linalg.generic`, so that
    `mpt-fuse-elementwise` can fuse them with elementwise neighbours (a
    broadcast bias into its add, say). Other named ops (fills, matmuls)
    stay named.

    ```mlir
    %t = linalg.transpose ins(%x : tensor<64x256xf16>) outs(%e : tensor<256x64xf16>) permutation = [1, 0]
    %m = linalg.matmul ins(%t, %dy : tensor<256x64xf16>, tensor<64x128xf16>) outs(%acc : tensor<256x128xf32>) -> tensor<256x128xf32>
    // becomes
    %m = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d2, d0)>, affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>], ...}
           ins(%x, %dy : tensor<64x256xf16>, tensor<64x128xf16>) outs(%acc : tensor<256x128xf32>) { ...matmul body... }
    ```
  }];
  let options = [
    Option<"generalize", "generalize", "bool", /*default=*/"true",
           "Turn broadcasts, reductions and remaining transposes into "
           "linalg.generic (for fusion)">
  ];
  let statistics = [
    Statistic<"numFolded", "num-folded", "Transposes folded into maps">,
    Statistic<"numCastsMoved", "num-casts-moved",
              "Casts of transposes read by contractions moved before the "
              "transpose">,
    Statistic<"numGeneralized", "num-generalized",
              "Named ops turned into linalg.generic">
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def ConvToGEMM : Pass<"mpt-conv-to-gemm"> {
  let summary = "Convolutions (window contractions) as im2col + a 2-D "
                "contraction";
  let description = [{
    Tensor cores take plain contractions. A convolution reads its input
    through a window (`x[n, oh + kh, ow + kw, c]`), and so do the backward's
    weight gradient (`dW[kh, kw, c, f] = sum x[n, oh + kh, ow + kw, c]
    g[n, oh, ow, f]`) and input gradient (a convolution of the padded output
    gradient with the flipped weights). This pass rewrites such an op on
    tensors — a named convolution or a `linalg.generic` whose body is a sum
    of products (casts allowed) — into:

    * a gather (`linalg.generic`, im2col) of each input that is read
      through a window, or in an order a matrix cannot take, into a tensor
      indexed by the loop dimensions themselves: (output rows, reduction)
      for one input, (reduction, output columns) for the other;
    * `tensor.collapse_shape` of both inputs and the output to matrices;
    * a 2-D contraction `linalg.generic` over (m, n, k) with the op's own
      body and discardable attributes;
    * `tensor.expand_shape` of its result back to the op's type.

    The reduction order is that of the input read without a window, so
    that the weights of a forward convolution and the output gradient of a
    weight gradient are used in place; the weights of an input gradient are
    copied once (a small tensor). The gathered input is (kernel height x
    kernel width) times the size of the window's source: this trades memory
    traffic for tensor-core speed, and pays for 16-bit inputs (the default:
    f32 convolutions stay, unless `all-types`).

    An op is rewritten only when each loop dimension is either an output
    dimension read by exactly one input, or a reduction read by both (no
    batch or depthwise dimensions), and the output holds one input's
    dimensions first, then the other's. Others are left alone (they run as
    generic kernels).
  }];
  let options = [
    Option<"allTypes", "all-types", "bool", /*default=*/"false",
           "Rewrite window contractions of any element type, not only "
           "those with f16 or bf16 inputs">
  ];
  let statistics = [
    Statistic<"numRewritten", "num-rewritten",
              "Window contractions rewritten as im2col + a 2-D contraction">
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def FuseElementwise : Pass<"mpt-fuse-elementwise"> {
  let summary = "Fuse chains of elementwise linalg.generic ops on tensors";
  let description = [{
    Prepares a step for bufferization: a `linalg.generic` absorbs an
    elementwise producer whose only uses are one of its inputs and,
    possibly, its own destination when the payload does not read it (the
    form `convert-elementwise-to-linalg` gives a chain: each op writes into
    its first operand). The fused op then writes where the producer wrote.
    Fusion uses upstream `fuseElementwiseOps` and stops where the fused
    payload would exceed `max-body-ops` ops, so that each fusion costs a
    bounded amount (linear time on a chain of any length).

    Fewer ops mean fewer and shorter alias chains for One-Shot Bufferize,
    whose analysis re-checks a whole alias set at every op of a chain
    written in place (a chain of 1000 unfused ops took 48 s). With
    `fresh-destinations` (default), every elementwise generic whose payload
    ignores its destination also gets a `tensor.empty` one, unless the
    destination is a block argument (a function argument may be written in
    place with `writable-args`): chains that cannot be fused (values used
    more than once, e.g. the residual stream of a transformer's backward)
    then no longer form one alias set. A 100k-op transformer bufferized in
    559 s without, 7.5 s with.

    A producer is not fused into a contraction (it would be recomputed for
    every point of the other operand, and a tensor-core contraction would
    lose its form). A splat constant tensor that a generic reads becomes
    the scalar constant in its payload, so that no tensor of copies is
    materialized. A generic that reads the same value twice through the
    same indexing map (as fusion makes them: a chain of n ops that each
    read `%a` fuses into a generic with n inputs `%a`) reads it once:
    bufferization analyses each use of a tensor against all others, so n
    such inputs cost n^2.

    The scalar ops of the payloads are kept as they are (same types, same
    order) and nothing else is folded, so the values computed do not change.

    ```mlir
    %0 = linalg.generic ... ins(%a, %a) outs(%a) { addf }
    %1 = linalg.generic ... ins(%0, %a) outs(%0) { mulf }
    // becomes
    %1 = linalg.generic ... ins(%a) outs(%e) { addf; mulf }
    ```
  }];
  let options = [
    Option<"maxBodyOps", "max-body-ops", "unsigned", /*default=*/"64",
           "Largest payload (ops, yield included) a fusion may create "
           "(0: no fusion)">,
    Option<"freshDestinations", "fresh-destinations", "bool",
           /*default=*/"true",
           "Give every elementwise generic whose payload ignores its "
           "destination, unless that is a block argument, a tensor.empty "
           "one">
  ];
  let statistics = [
    Statistic<"numFused", "num-fused", "Producers fused into consumers">,
    Statistic<"numFreshDest", "num-fresh-destinations",
              "Destinations replaced by tensor.empty">,
    Statistic<"numSplats", "num-splats",
              "Splat constant inputs turned into scalars">,
    Statistic<"numDeduplicated", "num-deduplicated",
              "Generics whose repeated inputs were merged">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def Bufferize : Pass<"mpt-bufferize", "::mlir::ModuleOp"> {
  let summary = "One-Shot Bufferize that stays fast on deep loop nests";
  let description = [{
    One-Shot Module Bufferize with the options of the CPU path
    (`bufferize-function-boundaries`, identity layouts at function
    boundaries, allocations may leave loops), run in its three upstream
    steps: the analysis with copy insertion (`insertTensorCopies`), then
    the `scf.for` ops that carry tensors and sit in a nest of such loops,
    outermost first (each loop's `scf.yield` just before the loop), then
    everything else (`bufferizeModuleOp`).

    Upstream bufferizes in post-order, innermost loop first. Each loop then
    asks for the buffer type of its iter_args while the enclosing loops are
    still on tensors, and `getBufferType` walks up and down the whole nest
    again for every level: time doubles with each level (30 s at 24).
    Outermost first, the init of every loop is already a buffer and the
    question is answered locally. The buffers and copies are the ones the
    analysis chose; only the order of the rewrite differs.

    The analysis of an in-place write checks every pair of reads and
    writes of the buffer's aliases, so a chain of n DPS ops, each writing
    into the previous one's result, costs n^3 (the loss-scaling check
    threads its Inf/NaN flag and sum of squares through one reduction per
    gradient: 2.3 s for a 10k-op step). Where the chain owns its buffer (it
    starts at a `tensor.empty`, `alloc_tensor` or `from_elements` and each
    of its values has one use, the next op's destination, in the same
    block), no other op can read or write that buffer and every link
    bufferizes in place. Such a link reads a fresh `alloc_tensor`
    placeholder during the analysis and gets its value back before the
    rewrite: the same buffers, in linear time.

    Upstream's function-boundary analysis asks about every pair of a
    returned tensor and a tensor argument: a step of n ops has about n/33
    of each (0.4 s of a 100k-op step). For a module without calls (no
    information flows between its functions), the pass runs One-Shot
    Module analysis itself, function by function as upstream does, and
    finds the aliasing and equivalent arguments of the returned values by
    enumerating each argument's alias set and equivalence class once. The
    records, and so the IR, are the same; with calls, upstream's analysis
    runs.
  }];
  let statistics = [
    Statistic<"numNestedLoops", "num-nested-loops",
              "Loops bufferized outermost first">,
    Statistic<"numChainLinks", "num-chain-links",
              "Destinations in owned chains, taken out of the analysis">
  ];
  let dependentDialects = [
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::memref::MemRefDialect"
  ];
}

def SplitDeallocs : Pass<"mpt-split-deallocs"> {
  let summary = "Split large bufferization.dealloc ops in linear time";
  let description = [{
    Runs between `ownership-based-buffer-deallocation` and
    `buffer-deallocation-simplification`. Ownership-based deallocation puts
    every buffer of a block into one `bufferization.dealloc` at its end: a
    step of 10k ops gets one op with thousands of memrefs, and the upstream
    simplification compares them pairwise, again after every split.

    This pass does the two rewrites that matter for such ops with a hash of
    allocations instead of pairwise queries:

    * a memref whose buffer comes from an allocation (through view ops) that
      no other memref and no retained value of the op may share is moved to
      a `bufferization.dealloc` of its own, with its condition;
    * a memref that is the same allocation as one or more retained values,
      and may alias no other retained value, is dropped and its condition
      is or-ed into the updated ownership of those retained values.

    Where a retained value or another memref is not a plain allocation (a
    loop result, a function argument, ...), the upstream `BufferOriginAnalysis`
    decides, as in the upstream patterns; anything in doubt stays in the op
    for `buffer-deallocation-simplification`.

    ```mlir
    %r = bufferization.dealloc (%a, %b : memref<4xf32>, memref<4xf32>)
             if (%true, %true) retain (%b : memref<4xf32>)
    // becomes (%a and %b are distinct memref.alloc results)
    bufferization.dealloc (%a : memref<4xf32>) if (%true)
    %r0 = bufferization.dealloc retain (%b : memref<4xf32>)
    %r = arith.ori %r0, %true : i1
    ```
  }];
  let statistics = [
    Statistic<"numSplit", "num-split", "Memrefs moved to a dealloc of their own">,
    Statistic<"numRetained", "num-retained",
              "Memrefs dropped because a result retains them">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect"
  ];
}

def SCFToCF : Pass<"mpt-scf-to-cf"> {
  let summary = "Lower scf to cf, last op first, in linear time";
  let description = [{
    Applies the upstream SCF-to-ControlFlow patterns, visiting ops from the
    end of each block to its start. Lowering a loop splits its block and
    moves every op after the loop into a new block; upstream
    `convert-scf-to-cf` lowers the first loop first, so a function with
    thousands of loops (linalg lowered to loops) moves its tail once per
    loop, quadratic in the number of loops. From the end, each op is moved
    at most once. The IR produced is the same up to block order.
  }];
  let dependentDialects = [
    "::mlir::cf::ControlFlowDialect",
    "::mlir::arith::ArithDialect"
  ];
}

def Round16BitOps : Pass<"mpt-round-16bit-ops"> {
  let summary = "Give every 16-bit arith op its own rounding (for lowering)";
  let description = [{
    Rewrites `arith.addf`, `subf`, `mulf`, `divf`, `remf` and `cmpf` on f16
    or bf16 scalars and vectors into the f32 op between `arith.extf` of the
    operands and `arith.truncf` of the result (no truncf for `cmpf`). Run
    before `arith-emulate-unsupported-floats`, which otherwise keeps a chain
    of emulated ops in f32 and rounds only where a value leaves the chain: a
    fused body computing `(x + c) - c` in f16 would then return `x`, where a
    GPU's 16-bit ALU (and IEEE f16) rounds after each op. f32 carries more
    than 2p+2 bits of either 16-bit format, so computing in f32 and rounding
    once gives the correctly rounded 16-bit result of `+ - * /`.

    ```mlir
    %s = arith.addf %a, %b : f16
    // becomes
    %0 = arith.extf %a : f16 to f32
    %1 = arith.extf %b : f16 to f32
    %2 = arith.addf %0, %1 : f32
    %s = arith.truncf %2 : f32 to f16
    ```
  }];
  let statistics = [
    Statistic<"numWidened", "num-widened", "16-bit ops computed in f32">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def LinalgToLoops : Pass<"mpt-linalg-to-loops"> {
  let summary = "Lower linalg ops on buffers to scf.for loops, in one walk";
  let description = [{
    Rewrites every linalg op with buffer semantics into a nest of `scf.for`
    loops with `memref.load`s, its payload and `memref.store`s, with
    upstream's `linalg::linalgOpToLoops` (what `convert-linalg-to-loops`
    applies), then keeps one definition of each constant per function, at
    its entry, as the greedy driver of `convert-linalg-to-loops` leaves
    them. That driver also tries to fold every op of the module and to
    simplify its regions, and does it all again until nothing changes: at
    least two sweeps of the whole module for one rewrite per linalg op, a
    third of the time of the CPU lowering's loops stage. Here each linalg op
    is rewritten once; no other op is folded (the payloads compute what they
    computed before).

    ```mlir
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
        ins(%a : memref<4xf32>) outs(%b : memref<4xf32>) {
    ^bb0(%x: f32, %y: f32):
      %s = arith.addf %x, %x : f32
      linalg.yield %s : f32
    }
    // becomes
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %c1 = arith.constant 1 : index
    scf.for %i = %c0 to %c4 step %c1 {
      %x = memref.load %a[%i] : memref<4xf32>
      %s = arith.addf %x, %x : f32
      memref.store %s, %b[%i] : memref<4xf32>
    }
    ```
  }];
  let dependentDialects = [
    "::mlir::scf::SCFDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::affine::AffineDialect",
    "::mlir::arith::ArithDialect"
  ];
  let statistics = [
    Statistic<"numLowered", "num-lowered", "Linalg ops lowered to loops">
  ];
}

def ConvertToLLVM : Pass<"mpt-convert-to-llvm", "::mlir::ModuleOp"> {
  let summary = "convert-to-llvm, reconcile-unrealized-casts and "
                "mpt-strip-foreign-attrs in one pass";
  let description = [{
    The end of `mpt-lower-to-cpu`: upstream's `convert-to-llvm` (the
    patterns of every loaded dialect's `ConvertToLLVMPatternInterface`,
    memref included, as `finalize-memref-to-llvm` has them), then
    `reconcile-unrealized-casts`, then what `mpt-strip-foreign-attrs` does,
    in one pass. Each pass is followed by a verification of the whole
    module, and this module is the largest of the pipeline (about 24 LLVM
    ops per op of the step): three passes cost three verifications, one
    pass one. Like `mpt-strip-foreign-attrs` it prints large literal
    structs as aliases.

    ```mlir
    // before
    func.func @f(%a: f32) -> f32 {
      %0 = arith.addf %a, %a : f32
      return %0 : f32
    }
    // after
    llvm.func @f(%arg0: f32) -> f32 {
      %0 = llvm.fadd %arg0, %arg0 : f32
      llvm.return %0 : f32
    }
    ```
  }];
  let options = [
    Option<"allowPatternRollback", "allow-pattern-rollback", "bool",
           /*default=*/"false",
           "Let the conversion driver roll back pattern applications (slower; "
           "upstream's default)">
  ];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
  let statistics = [
    Statistic<"numStripped", "num-stripped", "Foreign attributes removed">
  ];
}

#endif // MPT_TRANSFORMS_PASSES_TD

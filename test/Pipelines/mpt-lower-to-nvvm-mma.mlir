// Tensor cores in mpt-lower-to-nvvm (use-mma, on by default): every f16/bf16
// contraction of a mixed-precision step becomes a tensor-core kernel
// (`<fn>_mma<n>_<op>`, in the step's one GPU module): on sm_90a (the
// default chip) a warpgroup kernel (TMA, mbarriers, wgmma) where TMA can
// load both operands, else mma.sync; FP32 contractions (unless tf32=true)
// and convolutions keep the generic kernels (`<fn>_<n>_<op>`, a thread per
// output element looping over K).

// The shipped MLP: 2 forward matmuls, 3 backward ones (dX of layer 1, dW of
// both), which read their operands transposed through their indexing maps
// (mpt-fold-transposes: generics, no transpose kernels). With wgmma=false,
// all on mma.sync.
// RUN: mpt-opt %mpt_src/examples/mlp.mlir --auto-mixed-precision=dtype=bf16 \
// RUN:   | mpt-opt --mpt-lower-to-nvvm="format=isa wgmma=false" \
// RUN:   | %PYTHON %S/../Integration/GPU/Inputs/extract_ptx.py \
// RUN:   | FileCheck %s --check-prefix=BF16 --implicit-check-not=wgmma \
// RUN:       --implicit-check-not="{{step_[0-9]+_(batch_)?matmul}}"
// RUN: mpt-opt %mpt_src/examples/mlp.mlir \
// RUN:     --auto-mixed-precision="dtype=f16 loss-scaling=dynamic" \
// RUN:   | mpt-opt --mpt-lower-to-nvvm="format=isa wgmma=false" \
// RUN:   | %PYTHON %S/../Integration/GPU/Inputs/extract_ptx.py \
// RUN:   | FileCheck %s --check-prefix=F16 --implicit-check-not=wgmma \
// RUN:       --implicit-check-not="{{step_[0-9]+_(batch_)?matmul}}"

// BF16-COUNT-2: .entry step_mma{{[0-9]+}}_matmul(
// BF16-COUNT-3: .entry step_mma{{[0-9]+}}_generic(
// BF16: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// BF16-NOT: .f16.f16.f32

// F16-COUNT-2: .entry step_mma{{[0-9]+}}_matmul(
// F16-COUNT-3: .entry step_mma{{[0-9]+}}_generic(
// F16: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// F16-NOT: .bf16.bf16.f32

// By default (sm_90a, wgmma=true): the two contractions whose operands all
// have rows of a multiple of 16 bytes (the first layer's forward and weight
// gradient: 8, 16 and 32 columns) are warpgroup kernels: TMA loads
// completing on mbarriers, wgmma m64n128k16 with f32 accumulators; the
// three that read a matrix of 10 columns stay on mma.sync. On sm_80 none
// is a warpgroup kernel.
// RUN: mpt-opt %mpt_src/examples/mlp.mlir --auto-mixed-precision=dtype=bf16 \
// RUN:   | mpt-opt --mpt-lower-to-nvvm="format=isa" \
// RUN:   | %PYTHON %S/../Integration/GPU/Inputs/extract_ptx.py \
// RUN:   | FileCheck %s --check-prefix=WGMMA
// WGMMA: .entry step_mma{{[0-9]+}}_
// WGMMA: mbarrier.init.shared.b64
// WGMMA: fence.mbarrier_init.release.cluster
// WGMMA: mbarrier.arrive.expect_tx.shared.b64
// WGMMA: cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// WGMMA: mbarrier.try_wait.parity.shared.b64
// WGMMA: wgmma.fence.sync.aligned
// WGMMA: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// WGMMA: wgmma.commit_group.sync.aligned
// WGMMA: wgmma.wait_group.sync.aligned 1
// WGMMA: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32

// The host encodes a TMA map for each operand between the launches; the
// step still runs on one stream that the host waits for once, at the end
// (mpt-gpu-async-region: upstream's pass drained the stream before every
// map).
// RUN: mpt-opt %mpt_src/examples/mlp.mlir --auto-mixed-precision=dtype=bf16 \
// RUN:   | mpt-opt --mpt-lower-to-nvvm="format=isa" \
// RUN:   | FileCheck %s --check-prefix=STREAM \
// RUN:       --implicit-check-not="call @mgpuStreamCreate" \
// RUN:       --implicit-check-not="call @mgpuStreamSynchronize"
// STREAM:     llvm.func @step(
// STREAM:     llvm.call @mgpuStreamCreate()
// STREAM:     llvm.call @mgpuTensorMapEncodeTiledMemref
// STREAM:     llvm.call @mgpuTensorMapEncodeTiledMemref
// STREAM:     llvm.call @mgpuTensorMapEncodeTiledMemref
// STREAM:     llvm.call @mgpuTensorMapEncodeTiledMemref
// STREAM:     llvm.call @mgpuStreamSynchronize
// STREAM-NOT: llvm.call @mgpuTensorMapEncodeTiledMemref
// STREAM:     llvm.return
// RUN: mpt-opt %mpt_src/examples/mlp.mlir --auto-mixed-precision=dtype=bf16 \
// RUN:   | mpt-opt --mpt-lower-to-nvvm="format=isa chip=sm_80" \
// RUN:   | %PYTHON %S/../Integration/GPU/Inputs/extract_ptx.py \
// RUN:   | FileCheck %s --check-prefix=SM80 --implicit-check-not=wgmma \
// RUN:       --implicit-check-not=cp.async.bulk
// SM80: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32

// use-mma=false: the same step's contractions are generic kernels.
// RUN: mpt-opt %mpt_src/examples/mlp.mlir --auto-mixed-precision=dtype=bf16 \
// RUN:   | mpt-opt --mpt-lower-to-nvvm="format=isa use-mma=false" \
// RUN:   | %PYTHON %S/../Integration/GPU/Inputs/extract_ptx.py \
// RUN:   | FileCheck %s --check-prefix=OFF --implicit-check-not=mma.sync \
// RUN:       --implicit-check-not=step_mma
// OFF-COUNT-2: .entry step_{{[0-9]+}}_matmul(
// OFF-NOT: .entry step_{{[0-9]+}}_transpose(

// An FP32 step: no tensor-core kernel (TF32 is off by default: FP32 stays
// exact FP32).
// RUN: mpt-opt %mpt_src/examples/mlp.mlir --mpt-lower-to-nvvm="format=isa" \
// RUN:   | %PYTHON %S/../Integration/GPU/Inputs/extract_ptx.py \
// RUN:   | FileCheck %s --check-prefix=FP32 --implicit-check-not=mma.sync \
// RUN:       --implicit-check-not=step_mma --implicit-check-not=tf32
// FP32-COUNT-2: .entry step_{{[0-9]+}}_matmul(
// FP32-NOT: .entry step_{{[0-9]+}}_transpose(

// tf32=true: the same FP32 step's five contractions run on tensor cores as
// TF32 (inputs rounded with cvt.rna.tf32.f32, mma.sync m16n8k8, f32
// accumulators), with their epilogues, as in the 16-bit steps.
// RUN: mpt-opt %mpt_src/examples/mlp.mlir --mpt-lower-to-nvvm="format=isa tf32=true" \
// RUN:   | %PYTHON %S/../Integration/GPU/Inputs/extract_ptx.py \
// RUN:   | FileCheck %s --check-prefix=TF32 \
// RUN:       --implicit-check-not="{{step_[0-9]+_(batch_)?matmul}}" \
// RUN:       --implicit-check-not=m16n8k16
// TF32-COUNT-2: .entry step_mma{{[0-9]+}}_matmul(
// TF32: cvt.rna.tf32.f32
// TF32: mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32
// TF32-COUNT-3: .entry step_mma{{[0-9]+}}_generic(
// The transformer in FP32 with tf32=true: all 27 contractions, as in f16.
// RUN: mpt-opt %mpt_src/examples/transformer.mlir \
// RUN:     --mpt-lower-to-nvvm="format=isa tf32=true" \
// RUN:   | %PYTHON %S/../Integration/GPU/Inputs/extract_ptx.py \
// RUN:   | grep -c "\.entry step_mma" | FileCheck %s --check-prefix=TF32COUNT
// TF32COUNT: {{^}}27{{$}}

// The CNN in bf16: its five convolutions (two forward, two weight
// gradients, one input gradient) become im2col + a contraction on tensor
// cores (mpt-conv-to-gemm), and so do the head's matmuls (the forward and
// dX fold into one kernel each, dW reads through a map): eight mma kernels,
// no convolution or matmul kernel left on the generic path.
// RUN: mpt-opt %mpt_src/examples/cnn.mlir --auto-mixed-precision=dtype=bf16 \
// RUN:   | mpt-opt --mpt-lower-to-nvvm="format=isa" \
// RUN:   | %PYTHON %S/../Integration/GPU/Inputs/extract_ptx.py \
// RUN:   | FileCheck %s --check-prefix=CNN \
// RUN:       --implicit-check-not="{{step_[0-9]+_(batch_)?matmul|conv_2d}}"
// CNN-COUNT-8: .entry step_mma{{[0-9]+}}_{{matmul|generic}}(
// CNN: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32

// The transformer in f16: matmuls and the attention's batch_matmuls
// (forward and the backward's transposed forms), all 27 on tensor cores.
// RUN: mpt-opt %mpt_src/examples/transformer.mlir \
// RUN:     --auto-mixed-precision="dtype=f16 loss-scaling=dynamic" \
// RUN:   | mpt-opt --mpt-lower-to-nvvm="format=isa" \
// RUN:   | %PYTHON %S/../Integration/GPU/Inputs/extract_ptx.py \
// RUN:   | FileCheck %s --check-prefix=TF \
// RUN:       --implicit-check-not="{{step_[0-9]+_(batch_)?matmul}}"
// TF-DAG: .entry step_mma{{[0-9]+}}_batch_matmul(
// TF-DAG: .entry step_mma{{[0-9]+}}_matmul(
// TF-DAG: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// RUN: mpt-opt %mpt_src/examples/transformer.mlir \
// RUN:     --auto-mixed-precision="dtype=f16 loss-scaling=dynamic" \
// RUN:   | mpt-opt --mpt-lower-to-nvvm="format=isa" \
// RUN:   | %PYTHON %S/../Integration/GPU/Inputs/extract_ptx.py \
// RUN:   | grep -c "\.entry step_mma" | FileCheck %s --check-prefix=TFCOUNT
// TFCOUNT: {{^}}27{{$}}

// mma-remarks=true: the pipeline says which kernel each contraction got.
// RUN: mpt-opt %mpt_src/examples/mlp.mlir --auto-mixed-precision=dtype=bf16 \
// RUN:   | mpt-opt --mpt-lower-to-nvvm="format=isa mma-remarks=true" -o /dev/null 2>&1 \
// RUN:   | FileCheck %s --check-prefix=REMARK
// REMARK-DAG: remark: wgmma kernel: tile 128x128x64, warps 8x1
// REMARK-DAG: remark: mma.sync kernel: {{.*}} (no wgmma: TMA needs static strides and offset of {{A|B}} in multiples of 16 bytes)

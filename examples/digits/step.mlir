#map = affine_map<(d0, d1) -> (d1)>
#map1 = affine_map<(d0, d1) -> (d0, d1)>
#map2 = affine_map<(d0, d1) -> (d0)>
#map3 = affine_map<(d0, d1) -> (d0, 0)>
#map4 = affine_map<(d0) -> (d0)>
#map5 = affine_map<(d0, d1) -> (0, d1)>
#map6 = affine_map<(d0, d1) -> ()>
#map7 = affine_map<(d0) -> ()>
#map8 = affine_map<() -> ()>
module {
  func.func @step(%arg0: tensor<64x64xf32> {mpt.role = "param"}, %arg1: tensor<64xf32> {mpt.role = "param"}, %arg2: tensor<64x64xf32> {mpt.role = "param"}, %arg3: tensor<64xf32> {mpt.role = "param"}, %arg4: tensor<10x64xf32> {mpt.role = "param"}, %arg5: tensor<10xf32> {mpt.role = "param"}, %arg6: tensor<64x64xf32> {mpt.role = "input"}, %arg7: tensor<64xi64> {mpt.role = "input"}, %arg8: tensor<f32> {mpt.role = "loss_grad"}) -> (tensor<f32> {mpt.role = "loss"}, tensor<64x64xf32> {mpt.grad_of = 0 : i64, mpt.role = "grad"}, tensor<64xf32> {mpt.grad_of = 1 : i64, mpt.role = "grad"}, tensor<64x64xf32> {mpt.grad_of = 2 : i64, mpt.role = "grad"}, tensor<64xf32> {mpt.grad_of = 3 : i64, mpt.role = "grad"}, tensor<10x64xf32> {mpt.grad_of = 4 : i64, mpt.role = "grad"}, tensor<10xf32> {mpt.grad_of = 5 : i64, mpt.role = "grad"}) {
    %c-100_i64 = arith.constant -100 : i64
    %c0_i64 = arith.constant 0 : i64
    %cst = arith.constant 0.000000e+00 : f32
    %cst_0 = arith.constant 0xFF800000 : f32
    %cst_1 = arith.constant dense<0.000000e+00> : tensor<f32>
    %0 = tensor.empty() : tensor<64x64xf32>
    %transposed = linalg.transpose ins(%arg0 : tensor<64x64xf32>) outs(%0 : tensor<64x64xf32>) permutation = [1, 0] 
    %1 = linalg.fill ins(%cst : f32) outs(%0 : tensor<64x64xf32>) -> tensor<64x64xf32>
    %2 = linalg.matmul ins(%arg6, %transposed : tensor<64x64xf32>, tensor<64x64xf32>) outs(%1 : tensor<64x64xf32>) -> tensor<64x64xf32>
    %3 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "parallel"]} ins(%arg1 : tensor<64xf32>) outs(%0 : tensor<64x64xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<64x64xf32>
    %4 = linalg.generic {indexing_maps = [#map1, #map1, #map1], iterator_types = ["parallel", "parallel"]} ins(%2, %3 : tensor<64x64xf32>, tensor<64x64xf32>) outs(%0 : tensor<64x64xf32>) {
    ^bb0(%in: f32, %in_12: f32, %out: f32):
      %73 = arith.addf %in, %in_12 : f32
      linalg.yield %73 : f32
    } -> tensor<64x64xf32>
    %5 = linalg.generic {indexing_maps = [#map1, #map1], iterator_types = ["parallel", "parallel"]} ins(%4 : tensor<64x64xf32>) outs(%0 : tensor<64x64xf32>) {
    ^bb0(%in: f32, %out: f32):
      %73 = arith.cmpf ugt, %in, %cst : f32
      %74 = arith.select %73, %in, %cst : f32
      linalg.yield %74 : f32
    } -> tensor<64x64xf32>
    %transposed_2 = linalg.transpose ins(%arg2 : tensor<64x64xf32>) outs(%0 : tensor<64x64xf32>) permutation = [1, 0] 
    %6 = linalg.matmul ins(%5, %transposed_2 : tensor<64x64xf32>, tensor<64x64xf32>) outs(%1 : tensor<64x64xf32>) -> tensor<64x64xf32>
    %7 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "parallel"]} ins(%arg3 : tensor<64xf32>) outs(%0 : tensor<64x64xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<64x64xf32>
    %8 = linalg.generic {indexing_maps = [#map1, #map1, #map1], iterator_types = ["parallel", "parallel"]} ins(%6, %7 : tensor<64x64xf32>, tensor<64x64xf32>) outs(%0 : tensor<64x64xf32>) {
    ^bb0(%in: f32, %in_12: f32, %out: f32):
      %73 = arith.addf %in, %in_12 : f32
      linalg.yield %73 : f32
    } -> tensor<64x64xf32>
    %9 = linalg.generic {indexing_maps = [#map1, #map1], iterator_types = ["parallel", "parallel"]} ins(%8 : tensor<64x64xf32>) outs(%0 : tensor<64x64xf32>) {
    ^bb0(%in: f32, %out: f32):
      %73 = arith.cmpf ugt, %in, %cst : f32
      %74 = arith.select %73, %in, %cst : f32
      linalg.yield %74 : f32
    } -> tensor<64x64xf32>
    %10 = tensor.empty() : tensor<64x10xf32>
    %transposed_3 = linalg.transpose ins(%arg4 : tensor<10x64xf32>) outs(%10 : tensor<64x10xf32>) permutation = [1, 0] 
    %11 = linalg.fill ins(%cst : f32) outs(%10 : tensor<64x10xf32>) -> tensor<64x10xf32>
    %12 = linalg.matmul ins(%9, %transposed_3 : tensor<64x64xf32>, tensor<64x10xf32>) outs(%11 : tensor<64x10xf32>) -> tensor<64x10xf32>
    %13 = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "parallel"]} ins(%arg5 : tensor<10xf32>) outs(%10 : tensor<64x10xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<64x10xf32>
    %14 = linalg.generic {indexing_maps = [#map1, #map1, #map1], iterator_types = ["parallel", "parallel"]} ins(%12, %13 : tensor<64x10xf32>, tensor<64x10xf32>) outs(%10 : tensor<64x10xf32>) {
    ^bb0(%in: f32, %in_12: f32, %out: f32):
      %73 = arith.addf %in, %in_12 : f32
      linalg.yield %73 : f32
    } -> tensor<64x10xf32>
    %15 = tensor.empty() : tensor<64xi64>
    %16 = linalg.fill ins(%c0_i64 : i64) outs(%15 : tensor<64xi64>) -> tensor<64xi64>
    %17 = tensor.empty() : tensor<64xf32>
    %18 = linalg.fill ins(%cst_0 : f32) outs(%17 : tensor<64xf32>) -> tensor<64xf32>
    %19:2 = linalg.generic {indexing_maps = [#map1, #map2, #map2], iterator_types = ["parallel", "reduction"]} ins(%14 : tensor<64x10xf32>) outs(%18, %16 : tensor<64xf32>, tensor<64xi64>) {
    ^bb0(%in: f32, %out: f32, %out_12: i64):
      %73 = linalg.index 1 : index
      %74 = arith.index_cast %73 : index to i64
      %75 = arith.maximumf %in, %out : f32
      %76 = arith.cmpf ogt, %in, %out : f32
      %77 = arith.select %76, %74, %out_12 : i64
      linalg.yield %75, %77 : f32, i64
    } -> (tensor<64xf32>, tensor<64xi64>)
    %expanded = tensor.expand_shape %19#0 [[0, 1]] output_shape [64, 1] : tensor<64xf32> into tensor<64x1xf32>
    %20 = linalg.generic {indexing_maps = [#map1, #map3, #map1], iterator_types = ["parallel", "parallel"]} ins(%14, %expanded : tensor<64x10xf32>, tensor<64x1xf32>) outs(%10 : tensor<64x10xf32>) {
    ^bb0(%in: f32, %in_12: f32, %out: f32):
      %73 = arith.subf %in, %in_12 : f32
      linalg.yield %73 : f32
    } -> tensor<64x10xf32>
    %21 = linalg.generic {indexing_maps = [#map1, #map1], iterator_types = ["parallel", "parallel"]} ins(%20 : tensor<64x10xf32>) outs(%10 : tensor<64x10xf32>) {
    ^bb0(%in: f32, %out: f32):
      %73 = math.exp %in : f32
      linalg.yield %73 : f32
    } -> tensor<64x10xf32>
    %22 = tensor.empty() : tensor<64x1xf32>
    %23 = linalg.fill ins(%cst : f32) outs(%22 : tensor<64x1xf32>) -> tensor<64x1xf32>
    %24 = linalg.generic {indexing_maps = [#map1, #map3], iterator_types = ["parallel", "reduction"]} ins(%21 : tensor<64x10xf32>) outs(%23 : tensor<64x1xf32>) {
    ^bb0(%in: f32, %out: f32):
      %73 = arith.addf %in, %out : f32
      linalg.yield %73 : f32
    } -> tensor<64x1xf32>
    %25 = linalg.generic {indexing_maps = [#map1, #map1], iterator_types = ["parallel", "parallel"]} ins(%24 : tensor<64x1xf32>) outs(%22 : tensor<64x1xf32>) {
    ^bb0(%in: f32, %out: f32):
      %73 = math.log %in : f32
      linalg.yield %73 : f32
    } -> tensor<64x1xf32>
    %26 = linalg.generic {indexing_maps = [#map1, #map3, #map1], iterator_types = ["parallel", "parallel"]} ins(%20, %25 : tensor<64x10xf32>, tensor<64x1xf32>) outs(%10 : tensor<64x10xf32>) {
    ^bb0(%in: f32, %in_12: f32, %out: f32):
      %73 = arith.subf %in, %in_12 : f32
      linalg.yield %73 : f32
    } -> tensor<64x10xf32>
    %27 = tensor.empty() : tensor<10xi64>
    %28 = linalg.generic {indexing_maps = [#map4], iterator_types = ["parallel"]} outs(%27 : tensor<10xi64>) {
    ^bb0(%out: i64):
      %73 = linalg.index 0 : index
      %74 = arith.index_cast %73 : index to i64
      linalg.yield %74 : i64
    } -> tensor<10xi64>
    %29 = tensor.empty() : tensor<64xi1>
    %30 = linalg.generic {indexing_maps = [#map4, #map4], iterator_types = ["parallel"]} ins(%arg7 : tensor<64xi64>) outs(%29 : tensor<64xi1>) {
    ^bb0(%in: i64, %out: i1):
      %73 = arith.cmpi ne, %in, %c-100_i64 : i64
      linalg.yield %73 : i1
    } -> tensor<64xi1>
    %expanded_4 = tensor.expand_shape %arg7 [[0, 1]] output_shape [64, 1] : tensor<64xi64> into tensor<64x1xi64>
    %expanded_5 = tensor.expand_shape %28 [[0, 1]] output_shape [1, 10] : tensor<10xi64> into tensor<1x10xi64>
    %31 = tensor.empty() : tensor<64x10xi1>
    %32 = linalg.generic {indexing_maps = [#map3, #map5, #map1], iterator_types = ["parallel", "parallel"]} ins(%expanded_4, %expanded_5 : tensor<64x1xi64>, tensor<1x10xi64>) outs(%31 : tensor<64x10xi1>) {
    ^bb0(%in: i64, %in_12: i64, %out: i1):
      %73 = arith.cmpi eq, %in, %in_12 : i64
      linalg.yield %73 : i1
    } -> tensor<64x10xi1>
    %expanded_6 = tensor.expand_shape %30 [[0, 1]] output_shape [64, 1] : tensor<64xi1> into tensor<64x1xi1>
    %33 = linalg.generic {indexing_maps = [#map1, #map3, #map1], iterator_types = ["parallel", "parallel"]} ins(%32, %expanded_6 : tensor<64x10xi1>, tensor<64x1xi1>) outs(%31 : tensor<64x10xi1>) {
    ^bb0(%in: i1, %in_12: i1, %out: i1):
      %73 = arith.andi %in, %in_12 : i1
      linalg.yield %73 : i1
    } -> tensor<64x10xi1>
    %34 = linalg.generic {indexing_maps = [#map1, #map1], iterator_types = ["parallel", "parallel"]} ins(%33 : tensor<64x10xi1>) outs(%10 : tensor<64x10xf32>) {
    ^bb0(%in: i1, %out: f32):
      %73 = arith.uitofp %in : i1 to f32
      linalg.yield %73 : f32
    } -> tensor<64x10xf32>
    %35 = linalg.generic {indexing_maps = [#map1, #map1, #map6, #map1], iterator_types = ["parallel", "parallel"]} ins(%33, %26, %cst_1 : tensor<64x10xi1>, tensor<64x10xf32>, tensor<f32>) outs(%10 : tensor<64x10xf32>) {
    ^bb0(%in: i1, %in_12: f32, %in_13: f32, %out: f32):
      %73 = arith.select %in, %in_12, %in_13 : f32
      linalg.yield %73 : f32
    } -> tensor<64x10xf32>
    %36 = linalg.generic {indexing_maps = [#map1, #map1, #map1], iterator_types = ["parallel", "parallel"]} ins(%35, %34 : tensor<64x10xf32>, tensor<64x10xf32>) outs(%10 : tensor<64x10xf32>) {
    ^bb0(%in: f32, %in_12: f32, %out: f32):
      %73 = arith.mulf %in, %in_12 : f32
      linalg.yield %73 : f32
    } -> tensor<64x10xf32>
    %37 = linalg.fill ins(%cst : f32) outs(%17 : tensor<64xf32>) -> tensor<64xf32>
    %38 = linalg.generic {indexing_maps = [#map1, #map2], iterator_types = ["parallel", "reduction"]} ins(%36 : tensor<64x10xf32>) outs(%37 : tensor<64xf32>) {
    ^bb0(%in: f32, %out: f32):
      %73 = arith.addf %in, %out : f32
      linalg.yield %73 : f32
    } -> tensor<64xf32>
    %39 = linalg.generic {indexing_maps = [#map4, #map4], iterator_types = ["parallel"]} ins(%38 : tensor<64xf32>) outs(%17 : tensor<64xf32>) {
    ^bb0(%in: f32, %out: f32):
      %73 = arith.negf %in : f32
      linalg.yield %73 : f32
    } -> tensor<64xf32>
    %40 = linalg.generic {indexing_maps = [#map1, #map2], iterator_types = ["parallel", "reduction"]} ins(%34 : tensor<64x10xf32>) outs(%37 : tensor<64xf32>) {
    ^bb0(%in: f32, %out: f32):
      %73 = arith.addf %in, %out : f32
      linalg.yield %73 : f32
    } -> tensor<64xf32>
    %41 = tensor.empty() : tensor<f32>
    %42 = linalg.fill ins(%cst : f32) outs(%41 : tensor<f32>) -> tensor<f32>
    %43 = linalg.generic {indexing_maps = [#map4, #map7], iterator_types = ["reduction"]} ins(%40 : tensor<64xf32>) outs(%42 : tensor<f32>) {
    ^bb0(%in: f32, %out: f32):
      %73 = arith.addf %in, %out : f32
      linalg.yield %73 : f32
    } -> tensor<f32>
    %44 = linalg.generic {indexing_maps = [#map4, #map7], iterator_types = ["reduction"]} ins(%39 : tensor<64xf32>) outs(%42 : tensor<f32>) {
    ^bb0(%in: f32, %out: f32):
      %73 = arith.addf %in, %out : f32
      linalg.yield %73 : f32
    } -> tensor<f32>
    %45 = linalg.generic {indexing_maps = [#map8, #map8, #map8], iterator_types = []} ins(%44, %43 : tensor<f32>, tensor<f32>) outs(%41 : tensor<f32>) {
    ^bb0(%in: f32, %in_12: f32, %out: f32):
      %73 = arith.divf %in, %in_12 : f32
      linalg.yield %73 : f32
    } -> tensor<f32>
    %46 = linalg.generic {indexing_maps = [#map8, #map8, #map8], iterator_types = []} ins(%arg8, %43 : tensor<f32>, tensor<f32>) outs(%41 : tensor<f32>) {
    ^bb0(%in: f32, %in_12: f32, %out: f32):
      %73 = arith.divf %in, %in_12 : f32
      linalg.yield %73 : f32
    } -> tensor<f32>
    %47 = linalg.generic {indexing_maps = [#map1, #map1], iterator_types = ["parallel", "parallel"]} ins(%34 : tensor<64x10xf32>) outs(%10 : tensor<64x10xf32>) {
    ^bb0(%in: f32, %out: f32):
      %73 = arith.negf %in : f32
      linalg.yield %73 : f32
    } -> tensor<64x10xf32>
    %48 = linalg.generic {indexing_maps = [#map1, #map6, #map1], iterator_types = ["parallel", "parallel"]} ins(%47, %46 : tensor<64x10xf32>, tensor<f32>) outs(%10 : tensor<64x10xf32>) {
    ^bb0(%in: f32, %in_12: f32, %out: f32):
      %73 = arith.mulf %in, %in_12 : f32
      linalg.yield %73 : f32
    } -> tensor<64x10xf32>
    %49 = linalg.generic {indexing_maps = [#map1, #map1, #map6, #map1], iterator_types = ["parallel", "parallel"]} ins(%33, %48, %cst_1 : tensor<64x10xi1>, tensor<64x10xf32>, tensor<f32>) outs(%10 : tensor<64x10xf32>) {
    ^bb0(%in: i1, %in_12: f32, %in_13: f32, %out: f32):
      %73 = arith.select %in, %in_12, %in_13 : f32
      linalg.yield %73 : f32
    } -> tensor<64x10xf32>
    %50 = linalg.generic {indexing_maps = [#map1, #map1], iterator_types = ["parallel", "parallel"]} ins(%26 : tensor<64x10xf32>) outs(%10 : tensor<64x10xf32>) {
    ^bb0(%in: f32, %out: f32):
      %73 = math.exp %in : f32
      linalg.yield %73 : f32
    } -> tensor<64x10xf32>
    %51 = linalg.generic {indexing_maps = [#map1, #map3], iterator_types = ["parallel", "reduction"]} ins(%49 : tensor<64x10xf32>) outs(%23 : tensor<64x1xf32>) {
    ^bb0(%in: f32, %out: f32):
      %73 = arith.addf %in, %out : f32
      linalg.yield %73 : f32
    } -> tensor<64x1xf32>
    %52 = linalg.generic {indexing_maps = [#map1, #map3, #map1], iterator_types = ["parallel", "parallel"]} ins(%50, %51 : tensor<64x10xf32>, tensor<64x1xf32>) outs(%10 : tensor<64x10xf32>) {
    ^bb0(%in: f32, %in_12: f32, %out: f32):
      %73 = arith.mulf %in, %in_12 : f32
      linalg.yield %73 : f32
    } -> tensor<64x10xf32>
    %53 = linalg.generic {indexing_maps = [#map1, #map1, #map1], iterator_types = ["parallel", "parallel"]} ins(%49, %52 : tensor<64x10xf32>, tensor<64x10xf32>) outs(%10 : tensor<64x10xf32>) {
    ^bb0(%in: f32, %in_12: f32, %out: f32):
      %73 = arith.subf %in, %in_12 : f32
      linalg.yield %73 : f32
    } -> tensor<64x10xf32>
    %54 = linalg.matmul ins(%53, %arg4 : tensor<64x10xf32>, tensor<10x64xf32>) outs(%1 : tensor<64x64xf32>) -> tensor<64x64xf32>
    %55 = tensor.empty() : tensor<10x64xf32>
    %transposed_7 = linalg.transpose ins(%53 : tensor<64x10xf32>) outs(%55 : tensor<10x64xf32>) permutation = [1, 0] 
    %56 = linalg.fill ins(%cst : f32) outs(%55 : tensor<10x64xf32>) -> tensor<10x64xf32>
    %57 = linalg.matmul ins(%transposed_7, %9 : tensor<10x64xf32>, tensor<64x64xf32>) outs(%56 : tensor<10x64xf32>) -> tensor<10x64xf32>
    %58 = tensor.empty() : tensor<1x10xf32>
    %59 = linalg.fill ins(%cst : f32) outs(%58 : tensor<1x10xf32>) -> tensor<1x10xf32>
    %60 = linalg.generic {indexing_maps = [#map1, #map5], iterator_types = ["reduction", "parallel"]} ins(%53 : tensor<64x10xf32>) outs(%59 : tensor<1x10xf32>) {
    ^bb0(%in: f32, %out: f32):
      %73 = arith.addf %in, %out : f32
      linalg.yield %73 : f32
    } -> tensor<1x10xf32>
    %collapsed = tensor.collapse_shape %60 [[0, 1]] : tensor<1x10xf32> into tensor<10xf32>
    %61 = tensor.empty() : tensor<64x64xi1>
    %62 = linalg.generic {indexing_maps = [#map1, #map1], iterator_types = ["parallel", "parallel"]} ins(%9 : tensor<64x64xf32>) outs(%61 : tensor<64x64xi1>) {
    ^bb0(%in: f32, %out: i1):
      %73 = arith.cmpf ole, %in, %cst : f32
      linalg.yield %73 : i1
    } -> tensor<64x64xi1>
    %63 = linalg.generic {indexing_maps = [#map1, #map6, #map1, #map1], iterator_types = ["parallel", "parallel"]} ins(%62, %cst_1, %54 : tensor<64x64xi1>, tensor<f32>, tensor<64x64xf32>) outs(%0 : tensor<64x64xf32>) {
    ^bb0(%in: i1, %in_12: f32, %in_13: f32, %out: f32):
      %73 = arith.select %in, %in_12, %in_13 : f32
      linalg.yield %73 : f32
    } -> tensor<64x64xf32>
    %64 = linalg.matmul ins(%63, %arg2 : tensor<64x64xf32>, tensor<64x64xf32>) outs(%1 : tensor<64x64xf32>) -> tensor<64x64xf32>
    %transposed_8 = linalg.transpose ins(%63 : tensor<64x64xf32>) outs(%0 : tensor<64x64xf32>) permutation = [1, 0] 
    %65 = linalg.matmul ins(%transposed_8, %5 : tensor<64x64xf32>, tensor<64x64xf32>) outs(%1 : tensor<64x64xf32>) -> tensor<64x64xf32>
    %66 = tensor.empty() : tensor<1x64xf32>
    %67 = linalg.fill ins(%cst : f32) outs(%66 : tensor<1x64xf32>) -> tensor<1x64xf32>
    %68 = linalg.generic {indexing_maps = [#map1, #map5], iterator_types = ["reduction", "parallel"]} ins(%63 : tensor<64x64xf32>) outs(%67 : tensor<1x64xf32>) {
    ^bb0(%in: f32, %out: f32):
      %73 = arith.addf %in, %out : f32
      linalg.yield %73 : f32
    } -> tensor<1x64xf32>
    %collapsed_9 = tensor.collapse_shape %68 [[0, 1]] : tensor<1x64xf32> into tensor<64xf32>
    %69 = linalg.generic {indexing_maps = [#map1, #map1], iterator_types = ["parallel", "parallel"]} ins(%5 : tensor<64x64xf32>) outs(%61 : tensor<64x64xi1>) {
    ^bb0(%in: f32, %out: i1):
      %73 = arith.cmpf ole, %in, %cst : f32
      linalg.yield %73 : i1
    } -> tensor<64x64xi1>
    %70 = linalg.generic {indexing_maps = [#map1, #map6, #map1, #map1], iterator_types = ["parallel", "parallel"]} ins(%69, %cst_1, %64 : tensor<64x64xi1>, tensor<f32>, tensor<64x64xf32>) outs(%0 : tensor<64x64xf32>) {
    ^bb0(%in: i1, %in_12: f32, %in_13: f32, %out: f32):
      %73 = arith.select %in, %in_12, %in_13 : f32
      linalg.yield %73 : f32
    } -> tensor<64x64xf32>
    %transposed_10 = linalg.transpose ins(%70 : tensor<64x64xf32>) outs(%0 : tensor<64x64xf32>) permutation = [1, 0] 
    %71 = linalg.matmul ins(%transposed_10, %arg6 : tensor<64x64xf32>, tensor<64x64xf32>) outs(%1 : tensor<64x64xf32>) -> tensor<64x64xf32>
    %72 = linalg.generic {indexing_maps = [#map1, #map5], iterator_types = ["reduction", "parallel"]} ins(%70 : tensor<64x64xf32>) outs(%67 : tensor<1x64xf32>) {
    ^bb0(%in: f32, %out: f32):
      %73 = arith.addf %in, %out : f32
      linalg.yield %73 : f32
    } -> tensor<1x64xf32>
    %collapsed_11 = tensor.collapse_shape %72 [[0, 1]] : tensor<1x64xf32> into tensor<64xf32>
    return %45, %71, %collapsed_11, %65, %collapsed_9, %57, %collapsed : tensor<f32>, tensor<64x64xf32>, tensor<64xf32>, tensor<64x64xf32>, tensor<64xf32>, tensor<10x64xf32>, tensor<10xf32>
  }
}

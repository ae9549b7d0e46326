//===- SeedLinearity.h - How values depend on the backward seed -*- C++ -*-===//
//
// Loss scaling multiplies the backward seed by the scale and divides every
// gradient by it. That is right only for gradients that are linear in the
// seed: g(s * seed) = s * g(seed). This analysis proves it by dataflow, or
// says where it fails.
//
//===----------------------------------------------------------------------===//

#ifndef MPT_TRANSFORMS_SEEDLINEARITY_H
#define MPT_TRANSFORMS_SEEDLINEARITY_H

#include "mlir/Interfaces/FunctionInterfaces.h"
#include <memory>
#include <optional>
#include <string>

namespace mpt {

/// How a value depends on the backward seed. The values are bits, so that
/// the join of two is their `|`: a free term plus a linear one is neither.
enum class SeedDep : uint8_t {
  /// Provably zero (a zero constant, a fill with zero, `tensor.empty`):
  /// both free and linear.
  Zero = 0,
  /// Computed without the seed.
  Free = 1,
  /// A linear function of the seed: f(s * seed) = s * f(seed).
  Linear = 2,
  /// Anything else: a seed-derived value meets a term computed without the
  /// seed, is multiplied by itself, goes through a non-linear op, ...
  NonLinear = 3,
};

/// Where a value became non-linear in the seed, and why.
struct SeedDepOrigin {
  mlir::Operation *op = nullptr;
  std::string reason;
};

/// The dependence of every value of a function on its backward seeds, which
/// are linear; all other arguments are free. Understands arith, math,
/// tensor, linalg (through the payload of every structured op), scf (for,
/// while, if, execute_region), branches between blocks, and calls (each
/// callee is analysed with the dependences of the arguments the call passes,
/// once per distinct list). Any other op is non-linear in its operands and
/// the values its regions read from outside.
class SeedLinearity {
public:
  SeedLinearity(mlir::FunctionOpInterface fn,
                llvm::ArrayRef<mlir::Value> seeds);
  ~SeedLinearity();

  /// The dependence of `v`, a value of the function, on the seeds. For a
  /// value returned by the function, see also getControlDependence.
  SeedDep get(mlir::Value v) const;

  /// For a NonLinear value: the op where it became non-linear and why.
  SeedDepOrigin getOrigin(mlir::Value v) const;

  /// A branch between blocks whose condition depends on the seed: then
  /// nothing the function returns is linear in it.
  std::optional<SeedDepOrigin> getControlDependence() const;

  class Impl;

private:
  std::unique_ptr<Impl> impl;
};

} // namespace mpt

#endif // MPT_TRANSFORMS_SEEDLINEARITY_H

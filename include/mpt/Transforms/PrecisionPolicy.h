//===- PrecisionPolicy.h - Op lists of automatic mixed precision -*- C++
//-*-===//
//
// The four lists (allow / infer / clear / deny) that decide which ops run in
// 16 bits, how a user edits them, and how an op is classified.
//
//===----------------------------------------------------------------------===//

#ifndef MPT_TRANSFORMS_PRECISIONPOLICY_H
#define MPT_TRANSFORMS_PRECISIONPOLICY_H

#include "mlir/IR/Operation.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include <string>

namespace mpt {

/// How automatic mixed precision treats an op.
enum class OpClass {
  /// Contractions: 16-bit inputs, f32 accumulator and result, always.
  Allow,
  /// Computations that follow their neighbours (elementwise arithmetic,
  /// activations).
  Infer,
  /// Data movement and constants: follow their neighbours, exact in any type.
  Clear,
  /// Numerically sensitive: stay f32 and keep downstream infer/clear ops f32.
  Deny,
  /// Reductions: accumulate in f32; may read 16-bit inputs.
  Reduction,
  /// Structure that ties values (loops, branches, calls): kept f32 at its
  /// boundary, without tainting its neighbours.
  Boundary,
  /// No f32 value in or out: left alone.
  Ignore,
};

llvm::StringRef stringifyOpClass(OpClass cls);

/// The op lists. Structured linalg ops are classified by structure, not by
/// name (see classify), except that their names may appear in the lists to
/// override that.
class PrecisionPolicy {
public:
  /// The default lists.
  static PrecisionPolicy getDefault();

  /// Applies edits to one list: comma-separated op names added to `list`,
  /// `-name` removes a name from it. Returns an error message on failure.
  std::string edit(OpClass list, llvm::StringRef edits);

  /// Reads `allow: a, b` / `deny: -c` lines (with `#` comments) and applies
  /// them as edits. Returns an error message on failure.
  std::string applyPolicyText(llvm::StringRef text);

  /// The list an op name is in, if any.
  std::optional<OpClass> lookup(llvm::StringRef opName) const;

  /// All names of one list, sorted (for documentation and reports).
  llvm::SmallVector<llvm::StringRef> names(OpClass list) const;

  /// Classifies `op` (not an op nested in a linalg body).
  OpClass classify(mlir::Operation *op) const;

private:
  llvm::StringMap<OpClass> lists;
};

/// Parses the value of a list option into names; "-name" entries keep their
/// dash. Empty entries are skipped.
llvm::SmallVector<std::string> splitOpList(llvm::StringRef text);

} // namespace mpt

#endif // MPT_TRANSFORMS_PRECISIONPOLICY_H

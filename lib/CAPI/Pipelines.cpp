//===- Pipelines.cpp - C API: run mpt's pipelines on a module ---*- C++ -*-===//

#include "mpt-c/Pipelines.h"
#include "mpt/Pipelines/Pipelines.h"

#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Support.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include <optional>

using namespace mlir;

namespace {

/// Passes each error diagnostic to a C callback instead of to the context's
/// handlers; other severities go on to those.
class ErrorForwarder {
public:
  ErrorForwarder(MLIRContext *context, MlirStringCallback callback,
                 void *userData)
      : context(context), callback(callback), userData(userData) {
    if (callback)
      handler.emplace(context,
                      [this](Diagnostic &diag) { return forward(diag); });
  }

  /// Reports an error found outside a pass (an option that does not parse):
  /// to the callback, or as a diagnostic at an unknown location.
  void error(StringRef message) {
    if (callback)
      callback(wrap(message), userData);
    else
      emitError(UnknownLoc::get(context)) << message;
  }

private:
  LogicalResult forward(Diagnostic &diag) {
    if (diag.getSeverity() != DiagnosticSeverity::Error)
      return failure();
    std::string text;
    llvm::raw_string_ostream os(text);
    print(os, diag.getLocation());
    os << ": error: " << diag;
    for (const Diagnostic &note : diag.getNotes()) {
      // The whole module in generic form, attached to errors on ops: too
      // much for a callback.
      std::string message = note.str();
      if (StringRef(message).starts_with("see current operation"))
        continue;
      os << "\n";
      print(os, note.getLocation());
      os << ": note: " << message;
    }
    callback(wrap(text), userData);
    return success();
  }

  /// file:line:col, as mlir-opt writes it, or the location as MLIR prints it.
  static void print(llvm::raw_ostream &os, Location loc) {
    if (auto file = dyn_cast<FileLineColLoc>(loc))
      os << file.getFilename().getValue() << ":" << file.getLine() << ":"
         << file.getColumn();
    else
      os << loc;
  }

  MLIRContext *context;
  MlirStringCallback callback;
  void *userData;
  std::optional<ScopedDiagnosticHandler> handler;
};

/// The file the report is written to: the user's `report=PATH`, or a
/// temporary file (removed on destruction) when the caller takes the report
/// through its callback and gave no path or `-`.
class ReportFile {
public:
  LogicalResult prepare(std::string &reportOption, ErrorForwarder &errors) {
    if (!reportOption.empty() && reportOption != "-") {
      path = reportOption;
      return success();
    }
    SmallString<128> temp;
    if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
            "mpt-amp-report", "json", temp)) {
      errors.error("mpt: cannot create a temporary report file: " +
                   ec.message());
      return failure();
    }
    path = temp.str().str();
    temporary = true;
    reportOption = path;
    return success();
  }

  LogicalResult pass(MlirStringCallback callback, void *userData,
                     ErrorForwarder &errors) {
    auto buffer = llvm::MemoryBuffer::getFile(path);
    if (!buffer) {
      errors.error("mpt: cannot read the report '" + path +
                   "': " + buffer.getError().message());
      return failure();
    }
    callback(wrap((*buffer)->getBuffer()), userData);
    return success();
  }

  ~ReportFile() {
    if (temporary)
      llvm::sys::fs::remove(path);
  }

private:
  std::string path;
  bool temporary = false;
};

} // namespace

MlirLogicalResult mptRunAutoMixedPrecision(MlirModule module,
                                           MlirStringRef options,
                                           MlirStringCallback reportCallback,
                                           MlirStringCallback errorCallback,
                                           void *userData) {
  ModuleOp moduleOp = unwrap(module);
  MLIRContext *context = moduleOp.getContext();
  ErrorForwarder errors(context, errorCallback, userData);

  mpt::AutoMixedPrecisionOptions ampOptions;
  std::string parseError;
  llvm::raw_string_ostream parseErrors(parseError);
  if (failed(ampOptions.parseFromString(unwrap(options), parseErrors))) {
    errors.error("mpt: invalid auto-mixed-precision options '" +
                 unwrap(options).str() + "': " + parseError);
    return mlirLogicalResultFailure();
  }
  ReportFile report;
  if (reportCallback) {
    std::string path = ampOptions.report;
    if (failed(report.prepare(path, errors)))
      return mlirLogicalResultFailure();
    ampOptions.report = path;
  }

  PassManager pm(context, ModuleOp::getOperationName());
  mpt::buildAutoMixedPrecisionPipeline(pm, ampOptions);
  if (failed(pm.run(moduleOp)))
    return mlirLogicalResultFailure();
  if (reportCallback && failed(report.pass(reportCallback, userData, errors)))
    return mlirLogicalResultFailure();
  return mlirLogicalResultSuccess();
}

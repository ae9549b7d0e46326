//===- Dialects.cpp - C API of the mpt dialect ------------------*- C++ -*-===//

#include "mpt-c/Dialects.h"
#include "mpt/Dialect/MPT/IR/MPTDialect.h"

#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Registration.h"

using namespace mlir;

// As MLIR_DEFINE_CAPI_DIALECT_REGISTRATION, but inserting with
// mpt::registerMPTDialect, which adds the extension that verifies roles.
static void insertMPTDialect(MlirDialectRegistry registry) {
  mpt::registerMPTDialect(*unwrap(registry));
}

static MlirDialect loadMPTDialect(MlirContext context) {
  return wrap(unwrap(context)->getOrLoadDialect<mpt::MPTDialect>());
}

static MlirStringRef getMPTDialectNamespace() {
  return wrap(mpt::MPTDialect::getDialectNamespace());
}

MlirDialectHandle mlirGetDialectHandle__mpt__() {
  static MlirDialectRegistrationHooks hooks = {insertMPTDialect, loadMPTDialect,
                                               getMPTDialectNamespace};
  return MlirDialectHandle{&hooks};
}

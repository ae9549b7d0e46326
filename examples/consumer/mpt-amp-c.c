//===- mpt-amp-c.c - Run mpt's AMP pipeline through its C API -------*- C
//-*-===//
//
// Usage: mpt-amp-c FILE [OPTIONS]: prints FILE rewritten by
// auto-mixed-precision with OPTIONS, as mpt-amp does, and the report (JSON)
// on stderr.
//
//===----------------------------------------------------------------------===//

#include "mpt-c/Dialects.h"
#include "mpt-c/Pipelines.h"

#include "mlir-c/IR.h"
#include "mlir-c/RegisterEverything.h"

#include <stdio.h>

static void printTo(MlirStringRef text, void *file) {
  fwrite(text.data, 1, text.length, (FILE *)file);
}

static void printLine(MlirStringRef text, void *file) {
  printTo(text, file);
  fputc('\n', (FILE *)file);
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: mpt-amp-c FILE [OPTIONS]\n");
    return 2;
  }
  MlirContext context = mlirContextCreate();
  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  mlirRegisterAllDialects(registry);
  mlirDialectHandleInsertDialect(mlirGetDialectHandle__mpt__(), registry);
  mlirContextAppendDialectRegistry(context, registry);
  mlirDialectRegistryDestroy(registry);

  MlirModule module = mlirModuleCreateParseFromFile(
      context, mlirStringRefCreateFromCString(argv[1]));
  const char *options = argc == 3 ? argv[2] : "";
  int status = 1;
  if (!mlirModuleIsNull(module) &&
      mlirLogicalResultIsSuccess(mptRunAutoMixedPrecision(
          module, mlirStringRefCreateFromCString(options), printLine, printLine,
          stderr))) {
    mlirOperationPrint(mlirModuleGetOperation(module), printTo, stdout);
    printf("\n");
    status = 0;
  }
  if (!mlirModuleIsNull(module))
    mlirModuleDestroy(module);
  mlirContextDestroy(context);
  return status;
}

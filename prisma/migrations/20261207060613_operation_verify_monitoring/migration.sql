-- Verify and failure monitoring on/off run as worker operations (long agent work, live progress).
ALTER TYPE "OperationKind" ADD VALUE 'verify';
ALTER TYPE "OperationKind" ADD VALUE 'monitoring_on';
ALTER TYPE "OperationKind" ADD VALUE 'monitoring_off';

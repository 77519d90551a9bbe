-- AlterTable
ALTER TABLE "accounts" ADD COLUMN     "last_sign_in_at" TIMESTAMPTZ(3),
ADD COLUMN     "locked_at" TIMESTAMPTZ(3),
ADD COLUMN     "two_factor_required_by" TIMESTAMPTZ(3);

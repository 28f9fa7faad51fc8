-- The demo seed's made-up customers are labelled as sample data in the portal.
ALTER TABLE "Customer" ADD COLUMN "sample" BOOLEAN NOT NULL DEFAULT false;

// What `confect codegen` would write (written by hand: the benchmark does not run the CLI),
// cut to the services the handlers use.
import {
  DatabaseReader as DatabaseReader_,
  DatabaseWriter as DatabaseWriter_,
  MutationRunner as MutationRunner_,
  QueryRunner as QueryRunner_,
} from "@confect/server";
import type schemaDefinition from "../schema";

export const DatabaseReader = DatabaseReader_.DatabaseReader<typeof schemaDefinition>();
export const DatabaseWriter = DatabaseWriter_.DatabaseWriter<typeof schemaDefinition>();
export const QueryRunner = QueryRunner_.QueryRunner;
export const MutationRunner = MutationRunner_.MutationRunner;

// What `confect codegen` would write (written by hand: the benchmark does not run the CLI).
import { RegisteredConvexFunction, RegisteredFunctions } from "@confect/server";
import impl from "../impl";

export default RegisteredFunctions.make(impl, RegisteredConvexFunction.make);

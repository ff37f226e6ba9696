import schemaDefinition from "../confect/schema";

export default schemaDefinition.convexSchemaDefinition;

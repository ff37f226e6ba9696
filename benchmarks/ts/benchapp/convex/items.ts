import registeredFunctions from "../confect/_generated/registeredFunctions";

export const by_key = registeredFunctions.items.by_key;
export const insert = registeredFunctions.items.insert;
export const insert_then_get = registeredFunctions.items.insert_then_get;

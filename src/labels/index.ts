/**
 * The owner's label book (browser-safe entry, `omnitensor-consent/labels`): labels and salts of
 * the owner's data ids, never sent anywhere. The Node file store is
 * `omnitensor-consent/labels/file` (`./label-book-file.js`).
 */
export * from "./label-book.js";

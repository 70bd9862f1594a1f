// Entry point of proximity.js: each import registers one class with Ext.define.
// Order matters only where a class extends another of ours: parents first.
import './panel/Placeholder';

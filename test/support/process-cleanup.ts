/** Runs after each test file's own hooks: stops every process the file started and left running. */
import { afterAll } from 'vitest';
import { stopTracked } from './processes.ts';

afterAll(stopTracked);

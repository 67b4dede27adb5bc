import { JobextAPI } from '../api';
import { JobextModel } from '../model';

/** What every section needs: the model, the API and a way to open a run's detail. */
export interface IPanelContext {
  model: JobextModel;
  api: JobextAPI;
  openRun: (id: number) => void;
}

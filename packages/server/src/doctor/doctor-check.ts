/** One line of `bastion doctor`: what was checked, how it went and how to fix it. */
export interface DoctorCheck {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}
